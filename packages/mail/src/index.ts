export * from './config.js'
export * from './mailer.js'
export * from './templates.js'
