import type { XNaming } from './state.js'

/** The standalone server's settings, read once from the environment. */
export interface ServerConfig {
  port: number
  host: string
  seed: number
  control: boolean
  xNaming: XNaming
  logLevel: string
}

export class ConfigError extends Error {}

function integer (env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!/^-?\d+$/.test(raw) || value < min || value > max) throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`)
  return value
}

export function loadConfig (env: NodeJS.ProcessEnv): ServerConfig {
  const control = env.SIM_CONTROL ?? 'false'
  if (control !== 'true' && control !== 'false') throw new ConfigError(`SIM_CONTROL must be true or false, got "${control}"`)
  const xNaming = env.SIM_X_NAMING ?? 'tweet'
  if (xNaming !== 'tweet' && xNaming !== 'post') throw new ConfigError(`SIM_X_NAMING must be tweet or post, got "${xNaming}"`)
  return {
    port: integer(env, 'PORT', 3100, 0, 65_535),
    host: env.HOST === undefined || env.HOST === '' ? '127.0.0.1' : env.HOST,
    seed: integer(env, 'SIM_SEED', 42, -(2 ** 31), 2 ** 32 - 1),
    control: control === 'true',
    xNaming,
    logLevel: env.LOG_LEVEL === undefined || env.LOG_LEVEL === '' ? 'info' : env.LOG_LEVEL
  }
}
