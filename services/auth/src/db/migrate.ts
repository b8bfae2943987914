import { DatabaseConfigProperties, loadConfig, migrateToLatest, runMain } from '@pulse/service-kit'


runMain(async () => {
  const { DATABASE_URL } = loadConfig(DatabaseConfigProperties)
  await migrateToLatest({ url: DATABASE_URL, schema: 'auth', folder: new URL('./migrations', import.meta.url), log: (line) => console.warn(line) })
})
