/**
 * Test support for the ingest services (`@pulse/ingest-kit/testing`): the test world on real
 * Postgres and NATS, and a stand-in for auth's token responder. Not used by any service at run time.
 */
export * from './token-responder.js'
export * from './world.js'
