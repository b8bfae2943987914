import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { testInfra } from './infra.js'

/** Something `t.teardown` can be called on (a tap test). */
export interface Teardown {
  teardown: (fn: () => unknown) => void
}

/** A short unique name for this test file's NATS subjects, streams and Redis keys. */
export function uniqueName (label = 't'): string {
  return `${label}${process.pid}x${randomBytes(4).toString('hex')}`
}

/** A fresh, empty database for one test file, dropped at its end; returns its URL. */
export async function createTestDatabase (t: Teardown): Promise<string> {
  const { databaseUrl } = await testInfra()
  const name = uniqueName('pulse_test_')
  const admin = new pg.Client({ connectionString: databaseUrl })
  await admin.connect()
  await admin.query(`create database "${name}"`)
  await admin.end()
  t.teardown(async () => {
    const client = new pg.Client({ connectionString: databaseUrl })
    await client.connect()
    await client.query(`drop database if exists "${name}" with (force)`)
    await client.end()
  })
  const url = new URL(databaseUrl)
  url.pathname = `/${name}`
  return url.toString()
}
