import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { parse } from 'yaml'
import { generatedFiles } from '../src/generated.js'
import { SERVICES, healthPathOf } from '../src/services.js'
import { INFRA, ROOT, readRepoFile } from './helper.js'

t.test('the generated Kubernetes folders and NATS configuration are what the list and permissions.json generate', async (t) => {
  for (const [file, content] of Object.entries(generatedFiles())) {
    const onDisk = path.join(INFRA, file)
    t.ok(existsSync(onDisk), `infra/${file} exists (run pnpm --filter @pulse/infra generate)`)
    if (existsSync(onDisk)) t.equal(readFileSync(onDisk, 'utf8'), content, `infra/${file} is up to date (run pnpm --filter @pulse/infra generate)`)
  }
  const folders = readdirSync(path.join(INFRA, 'k8s', 'services')).sort()
  t.same(folders, SERVICES.map((s) => s.name).sort(), 'one folder per listed service, none left over')
})

t.test('every service of the repository is in the deployment list, and every enabled one has landed', async (t) => {
  const inRepo = readdirSync(path.join(ROOT, 'services')).filter((d) => existsSync(path.join(ROOT, 'services', d, 'package.json')))
  for (const dir of inRepo) t.ok(SERVICES.some((s) => s.dir === `services/${dir}`), `services/${dir} is listed in infra/src/services.ts`)
  for (const s of SERVICES.filter((s) => s.enabled)) {
    t.ok(existsSync(path.join(ROOT, s.dir, 'src', 'server.ts')), `${s.dir}/src/server.ts exists`)
    if (s.schema !== undefined) t.ok(existsSync(path.join(ROOT, s.dir, 'src', 'db', 'migrate.ts')), `${s.dir} has its migration entry point`)
    const pkg = JSON.parse(readRepoFile(`${s.dir}/package.json`)) as { scripts?: Record<string, string> }
    t.equal(pkg.scripts?.start, 'node dist/server.js', `${s.dir} starts as the image does`)
  }
})

t.test('the image workflow builds every enabled service with its folder and port', async (t) => {
  const workflow = parse(readRepoFile('.github/workflows/images.yml')) as { on: { push: { tags: string[] }, pull_request?: unknown }, jobs: { image: { env: Record<string, string>, strategy: { matrix: { include: { service: string, dir: string, port: number, health?: string }[] } }, steps: { uses?: string, if?: string, with?: Record<string, string> }[] } } }
  t.same(workflow.on.push.tags, ['v*'], 'runs on version tags')
  t.ok('pull_request' in workflow.on, 'and builds every pull request')
  const matrix = workflow.jobs.image.strategy.matrix.include
  t.same(
    matrix.map((m) => `${m.service} ${m.dir} ${m.port} ${m.health ?? '/health'}`).sort(),
    SERVICES.filter((s) => s.enabled).map((s) => `${s.name} ${s.dir} ${s.port} ${healthPathOf(s)}`).sort()
  )
  const build = workflow.jobs.image.steps.find((s) => s.uses?.startsWith('docker/build-push-action'))
  t.equal(build?.with?.file, 'infra/docker/Dockerfile')
  t.match(build?.with?.['build-args'], /SERVICE=\$\{\{ matrix\.dir \}\}/)
  t.match(build?.with?.['build-args'], /HEALTH_PATH=\$\{\{ matrix\.health \|\| '\/health' \}\}/, 'the health check\'s path, /health unless the matrix says otherwise')
  // Pushed for a version tag only: a pull request builds the images and throws them away.
  t.equal(build?.with?.push, "${{ env.PUSH == 'true' }}")
  t.equal(workflow.jobs.image.env.PUSH, "${{ github.event_name == 'push' && startsWith(github.ref, 'refs/tags/v') }}")
  t.equal(workflow.jobs.image.steps.find((s) => s.uses?.startsWith('docker/login-action'))?.if, "env.PUSH == 'true'", 'logs in to the registry only to push')
})

t.test('the image workflow keeps the pnpm store between builds, in the cache mount the Dockerfile uses', async (t) => {
  const workflow = parse(readRepoFile('.github/workflows/images.yml')) as { jobs: { image: { steps: { id?: string, uses?: string, with?: Record<string, string> }[] } } }
  const steps = workflow.jobs.image.steps
  const cache = steps.find((s) => s.uses?.startsWith('actions/cache'))
  t.match(cache?.with?.key, /hashFiles\('pnpm-lock\.yaml'\)/, 'keyed by the lockfile')
  const dance = steps.find((s) => s.uses?.startsWith('reproducible-containers/buildkit-cache-dance'))
  const map = JSON.parse(dance?.with?.['cache-map'] ?? '{}') as Record<string, { target: string, id: string }>
  const mount = map[cache?.with?.path ?? '']
  t.ok(mount, 'the cached folder is moved into the builder')
  const dockerfile = readRepoFile('infra/docker/Dockerfile')
  t.ok(dockerfile.includes(`--mount=type=cache,id=${mount?.id},target=${mount?.target}`), `the Dockerfile's installs use that cache mount (${mount?.id} at ${mount?.target})`)
  t.ok(steps.findIndex((s) => s === dance) < steps.findIndex((s) => s.uses?.startsWith('docker/build-push-action')), 'before the build')
})
