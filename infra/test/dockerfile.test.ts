import { readdirSync } from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { INFRA, readRepoFile } from './helper.js'

interface Stage { name: string, from: string, lines: string[] }

/** The Dockerfile's stages with their instructions (continuation lines and heredocs joined). */
function stages (text: string): Stage[] {
  const result: Stage[] = []
  const instructions: string[] = []
  let current = ''
  let heredoc: string | undefined
  for (const raw of text.split('\n')) {
    if (heredoc !== undefined) {
      current += `\n${raw}`
      if (raw.trim() === heredoc) { instructions.push(current); current = ''; heredoc = undefined }
      continue
    }
    const line = raw.trim()
    if (current === '' && (line === '' || line.startsWith('#'))) continue
    current += current === '' ? line : ` ${line}`
    const here = /<<-?(\w+)\s*$/.exec(line)
    if (here !== null) { heredoc = here[1]; continue }
    if (current.endsWith('\\')) { current = current.slice(0, -1); continue }
    instructions.push(current)
    current = ''
  }
  for (const ins of instructions) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(ins)
    if (from !== null) result.push({ name: from[2] ?? String(result.length), from: from[1]!, lines: [] })
    else result.at(-1)?.lines.push(ins)
  }
  return result
}

const dockerfiles = readdirSync(path.join(INFRA, 'docker')).filter((f) => f === 'Dockerfile' || f.endsWith('.Dockerfile'))

t.test('there is a Dockerfile', async (t) => { t.ok(dockerfiles.length > 0) })

for (const file of dockerfiles) {
  const text = readRepoFile(`infra/docker/${file}`)
  const all = stages(text)
  const final = all.at(-1)!

  t.test(`${file}: the final image runs node dist/server.js as a non-root user`, async (t) => {
    const users = final.lines.filter((l) => /^USER\s/i.test(l)).map((l) => l.split(/\s+/)[1])
    t.ok(users.length > 0, 'the final stage sets a user')
    t.notOk(['root', '0', '0:0', 'root:root'].includes(users.at(-1) ?? 'root'), `the last USER is not root (${users.at(-1)})`)
    const userAt = final.lines.findIndex((l) => /^USER\s/i.test(l))
    const runAfterUser = final.lines.slice(userAt + 1).filter((l) => /^RUN\s/i.test(l))
    t.same(runAfterUser, [], 'nothing runs as root after the user is set')
    const cmd = final.lines.filter((l) => /^CMD\s/i.test(l)).at(-1)
    t.equal(cmd, 'CMD ["node", "dist/server.js"]')
    t.notOk(final.lines.some((l) => /^ENTRYPOINT\s/i.test(l)), 'no entrypoint: `node dist/db/migrate.js` runs the migrations from the same image')
    const args = Object.fromEntries([...text.matchAll(/^ARG\s+(\w+)=(\S+)/gm)].map((m) => [m[1], m[2]]))
    t.equal(args.HEALTH_PATH, '/health', 'the health check\'s path is a build argument, /health by default')
    t.ok(final.lines.some((l) => /^ENV\s.*\bHEALTH_PATH=\$\{HEALTH_PATH\}/.test(l)), 'the build argument reaches the health check')
    t.ok(final.lines.some((l) => /^HEALTHCHECK\s.*process\.env\.PORT \+ process\.env\.HEALTH_PATH/i.test(l)), 'a health check on that path')
    t.notMatch(text, /--noCheck/, 'the packages are built with their type check')
    t.ok(final.lines.some((l) => /^ENV\s.*NODE_ENV=production/.test(l)), 'NODE_ENV=production')
  })

  t.test(`${file}: multi-stage on a Node LTS, the final image holds only the pruned deployment`, async (t) => {
    t.ok(all.length >= 2, 'at least a build and a runtime stage')
    const args = Object.fromEntries([...text.matchAll(/^ARG\s+(\w+)=(\S+)/gm)].map((m) => [m[1], m[2]]))
    const node = String(args.NODE_VERSION)
    t.ok(Number(node) >= 22 && Number(node) % 2 === 0, `Node ${node} is an even (LTS) line, 22 or newer`)
    t.match(args.BASE_IMAGE ?? final.from, /^node:/, 'an official Node image')
    const copies = final.lines.filter((l) => /^(COPY|ADD)\s/i.test(l))
    t.ok(copies.length > 0 && copies.every((l) => /--from=build\b/.test(l) && /\s\/out\s/.test(l)), 'the final stage copies only the deployed output')
    const build = all.find((s) => s.name === 'build')
    const buildText = build?.lines.join('\n') ?? ''
    t.match(buildText, /pnpm --filter "\$\{name\}" deploy --legacy --prod/, 'production dependencies only, through pnpm deploy')
    t.match(buildText, /rm -rf "\$pkg\/src" "\$pkg\/test"/, 'sources and tests are removed from the deployment')
    t.match(buildText, /--frozen-lockfile/, 'the lockfile decides every version')
  })

  t.test(`${file}: dev dependencies, tests and secrets never reach the build`, async (t) => {
    const ignore = readRepoFile('.dockerignore').split('\n').map((l) => l.trim())
    for (const pattern of ['**/node_modules', '**/dist', '**/test', '.env', '.git', '**/*.env']) t.ok(ignore.includes(pattern), `.dockerignore has ${pattern}`)
    t.ok(ignore.includes('!.env.example'), 'only the example of the settings file may be sent')
    t.notMatch(text, /\b(IDENTITY_SECRET|SESSION_SECRET|PASSWORD|TOKEN_ENCRYPTION_KEYS)\b/, 'no secret is baked into the image')
  })
}
