import type { ChildProcess, StdioOptions } from 'node:child_process'

export interface StackProcess { name: string, dir: string, port: number, urlVar?: string, migrates?: boolean, simulator?: boolean, healthPath?: string }
export const ROOT: string
export const PROCESSES: StackProcess[]
export const SIMULATOR_CREDENTIALS: Record<string, string>
export const MAILDEV: { name: string, port: number, smtpPort: number, healthPath: string, page: string }
export function presentProcesses (): StackProcess[]
export function answers (url: string, timeoutMs?: number): Promise<boolean>
export function checkInfrastructure (env: Record<string, string | undefined>): Promise<string[]>
export function migrateAll (env: Record<string, string | undefined>, options?: { stdio?: StdioOptions }): Promise<void>
export function stackEnvironment (baseEnv: Record<string, string | undefined>, ports?: Record<string, number>): { env: Record<string, string | undefined>, useSimulator: boolean, useMaildev: boolean }
export interface RunningStack {
  children: { name: string, child: ChildProcess, url: string }[]
  env: Record<string, string | undefined>
  stop: () => Promise<void>
}
export function startStack (options?: { env?: Record<string, string | undefined>, ports?: Record<string, number>, stdio?: StdioOptions, healthTimeoutMs?: number, only?: string[] }): Promise<RunningStack>
export const DASHBOARD_DIR: string
export function dashboardBuildIsStale (): boolean
export function buildDashboardIfNeeded (options?: { stdio?: StdioOptions, force?: boolean }): Promise<boolean>
