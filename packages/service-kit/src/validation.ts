import type { FastifySchemaCompiler, FastifySchemaValidationError } from 'fastify'
import type { TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import Value from 'typebox/value'

/**
 * Validates with TypeBox's compiler. Bodies are checked exactly as sent: no type coercion ("5" is
 * not 5) and no silent removal of unknown properties. Querystring, params and headers arrive as
 * strings, so they are converted and their defaults applied first.
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const validator = Compile(schema)
  if (httpPart === 'body') {
    return (value) => validator.Check(value) ? { value } : { error: validator.Errors(value) as FastifySchemaValidationError[] }
  }
  return (value) => {
    const converted = Value.Convert(schema, Value.Default(schema, value))
    return validator.Check(converted) ? { value: converted } : { error: validator.Errors(converted) as FastifySchemaValidationError[] }
  }
}

/** "body/score must be <= 5", "body/foo is not an allowed field", "body/name is required". */
export function schemaErrorFormatter (errors: FastifySchemaValidationError[], dataVar: string): Error {
  const error = errors.find((e) => e.keyword !== 'additionalProperties') ?? errors[0]
  if (error === undefined) return new Error(`${dataVar} is invalid`)
  const path = `${dataVar}${error.instancePath}`
  const params = error.params as Record<string, unknown>
  let message: string
  if (error.keyword === 'boolean' || error.keyword === 'additionalProperties') {
    const extra = (params.additionalProperties as string[] | undefined)?.[0]
    message = extra !== undefined ? `${path}/${extra} is not an allowed field` : `${path} is not an allowed field`
  } else if (error.keyword === 'required') {
    const missing = (params.requiredProperties as string[] | undefined)?.[0] ?? (params.missingProperty as string | undefined)
    message = missing !== undefined ? `${path}/${missing} is required` : `${path} is missing a required field`
  } else {
    message = `${path} ${error.message ?? 'is invalid'}`
  }
  return new Error(message)
}
