// `pnpm start`: checks that Postgres, Redis and NATS answer, runs every service's migrations and
// starts the whole local stack (the provider simulator too, unless real credentials are set); builds
// the dashboard first when its build is missing or older than its sources.
import { buildDashboardIfNeeded, checkInfrastructure, migrateAll, presentProcesses, startStack } from './stack.mjs'

const problems = await checkInfrastructure(process.env)
if (problems.length > 0) {
  console.error('Pulse cannot start: its infrastructure does not answer.')
  for (const p of problems) console.error(`  - ${p}`)
  console.error('Start what is missing (or point the variable at it) and run the command again.')
  process.exit(1)
}

try {
  if (await buildDashboardIfNeeded().catch((error) => { throw new Error(`${error.message}; see the output above`) })) console.log('The dashboard is built.')
  await migrateAll(process.env)
  const stack = await startStack()
  const gateway = stack.children.find((c) => c.name === 'gateway')
  console.log(`Pulse is running: ${stack.children.map((c) => `${c.name} ${c.url}`).join(', ')}`)
  if (gateway !== undefined) {
    const maildev = stack.children.find((c) => c.name === 'maildev')
    console.log(`\n  Open the dashboard: ${gateway.url}/\n  The API reference:  ${gateway.url}/docs${maildev !== undefined ? `\n  Mails Pulse sends:  ${maildev.url}` : ''}\n\nCtrl-C stops everything.`)
  }
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
