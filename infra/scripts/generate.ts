// Writes the files generated from infra/src/services.ts and infra/nats/permissions.json.
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { generatedFiles } from '../src/generated.js'

const infra = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
for (const [file, content] of Object.entries(generatedFiles())) {
  const target = path.join(infra, file)
  mkdirSync(path.dirname(target), { recursive: true })
  writeFileSync(target, content)
  console.warn(`wrote infra/${file}`)
}
