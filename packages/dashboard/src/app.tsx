export function App () { return <main><h1>Pulse</h1></main> }
