export * from './infra.js'
export * from './isolation.js'
export * from './tcp-proxy.js'
export * from './waiting.js'
