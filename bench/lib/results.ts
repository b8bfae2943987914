// bench/RESULTS.md mixes analysis written by hand with blocks the runs write: each block sits
// between `<!-- bench:<name>:begin -->` and `<!-- bench:<name>:end -->`, and a run replaces only
// the blocks it measured. Everything outside the markers is kept as it is.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { ROOT } from './processes.js'

export const RESULTS_FILE = process.env.BENCH_RESULTS !== undefined ? path.resolve(process.env.BENCH_RESULTS) : path.join(ROOT, 'bench/RESULTS.md')

export interface Block {
  name: string
  /** Where a block without markers goes: under the first line starting with this heading, or at the end under `title`. */
  heading?: string
  title?: string
  body: string
}

const begin = (name: string) => `<!-- bench:${name}:begin -->`
const end = (name: string) => `<!-- bench:${name}:end -->`

/** Lines equal to `marker` (markers only count on a line of their own). */
function linesOf (lines: string[], marker: string): number[] {
  return lines.flatMap((line, i) => line.trim() === marker ? [i] : [])
}

export function spliceBlock (text: string, block: Block): string {
  const lines = text.split('\n')
  const wrapped = [begin(block.name), block.body.trimEnd(), end(block.name)]
  const starts = linesOf(lines, begin(block.name))
  const ends = linesOf(lines, end(block.name))
  if (starts.length === 1 && ends.length === 1 && starts[0]! < ends[0]!) {
    lines.splice(starts[0]!, ends[0]! - starts[0]! + 1, ...wrapped)
    return lines.join('\n')
  }
  if (starts.length + ends.length > 0) {
    throw new Error(`${RESULTS_FILE}: the markers of block "${block.name}" are not one begin followed by one end; fix them by hand`)
  }
  // No markers yet: under the heading, else before the first section (the header), else at the end.
  if (block.heading !== undefined) {
    const at = lines.findIndex((line) => line.startsWith(block.heading!))
    if (at >= 0) {
      lines.splice(at + 1, 0, '', ...wrapped)
      return lines.join('\n')
    }
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
    lines.push('', block.title ?? block.heading, '', ...wrapped, '')
    return lines.join('\n')
  }
  const firstSection = lines.findIndex((line) => line.startsWith('## '))
  if (firstSection >= 0) {
    lines.splice(firstSection, 0, ...wrapped, '')
    return lines.join('\n')
  }
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop()
  lines.push('', ...wrapped, '')
  return lines.join('\n')
}

/** Replaces (or adds) the blocks in RESULTS.md, creating it if needed. */
export function writeBlocks (blocks: Block[]): void {
  let text = existsSync(RESULTS_FILE) ? readFileSync(RESULTS_FILE, 'utf8') : '# Benchmark results\n'
  for (const block of blocks) text = spliceBlock(text, block)
  writeFileSync(RESULTS_FILE, text)
}
