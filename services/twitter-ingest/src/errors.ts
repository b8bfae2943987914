import { ingestHttpErrors } from '@pulse/ingest-kit'

/** This service's error catalogue; the kit's error handler shapes every reply. */
export const TwitterErrors = ingestHttpErrors('TWITTER', 'X')
