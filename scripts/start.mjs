// `pnpm start`: checks that Postgres, Redis and NATS answer, runs every service's migrations and
// starts the whole local stack (the provider simulator too, unless real credentials are set).
import { checkInfrastructure, migrateAll, presentProcesses, startStack } from './stack.mjs'

const problems = await checkInfrastructure(process.env)
if (problems.length > 0) {
  console.error('Pulse cannot start: its infrastructure does not answer.')
  for (const p of problems) console.error(`  - ${p}`)
  console.error('Start what is missing (or point the variable at it) and run the command again.')
  process.exit(1)
}

try {
  await migrateAll(process.env)
  const stack = await startStack()
  const gateway = stack.children.find((c) => c.name === 'gateway')
  console.log(`Pulse is running: ${stack.children.map((c) => `${c.name} ${c.url}`).join(', ')}`)
  if (gateway !== undefined) console.log(`Open ${gateway.url}/docs for the API. Ctrl-C stops everything.`)
  else console.log(`Present so far: ${presentProcesses().map((p) => p.name).join(', ') || 'nothing'}. Ctrl-C stops everything.`)
  let stopping = false
  const shutdown = async (exitCode) => {
    if (stopping) return
    stopping = true
    await stack.stop()
    process.exit(exitCode)
  }
  process.on('SIGINT', () => shutdown(0))
  process.on('SIGTERM', () => shutdown(0))
  for (const { name, child } of stack.children) {
    child.on('exit', (code, signal) => {
      if (stopping) return
      console.error(`${name} stopped unexpectedly (${signal ?? `exit ${code}`}); stopping the stack.`)
      void shutdown(1)
    })
  }
} catch (error) {
  console.error(`Pulse could not start: ${error.message}`)
  process.exit(1)
}
