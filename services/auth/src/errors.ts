import createError from '@fastify/error'

export const AuthInvalidCredentialsError = createError('AUTH_INVALID_CREDENTIALS', 'Invalid username or password', 401)
export const AuthTooManyAttemptsError = createError('AUTH_TOO_MANY_ATTEMPTS', 'Too many failed logins; try again later', 429)
export const AuthTooManyRegistrationsError = createError('AUTH_TOO_MANY_REGISTRATIONS', 'Too many accounts created from this address; try again later', 429)
export const AuthTooManySignInStartsError = createError('AUTH_TOO_MANY_SIGN_IN_STARTS', 'Too many sign-ins started from this address; try again later', 429)
export const AuthUsernameTakenError = createError('AUTH_USERNAME_TAKEN', 'This username is taken', 409)
export const AuthInvalidTimezoneError = createError('AUTH_INVALID_TIMEZONE', 'body/timezone must be an IANA time zone such as Europe/Paris (got "%s")', 400)
export const AuthUserNotFoundError = createError('AUTH_USER_NOT_FOUND', 'No such user', 404)
export const AuthPasswordRequiredError = createError('AUTH_PASSWORD_REQUIRED', 'body/password is required: confirm with the account\'s password', 400)
export const AuthWrongPasswordError = createError('AUTH_WRONG_PASSWORD', 'body/password is not this account\'s password', 403)
export const AuthReauthenticationRequiredError = createError('AUTH_REAUTHENTICATION_REQUIRED', 'Sign in with %s again, then confirm within %d seconds', 403)
export const AuthNotConnectedError = createError('AUTH_NOT_CONNECTED', 'This provider is not connected', 404)
export const AuthProviderUnavailableError = createError('AUTH_PROVIDER_UNAVAILABLE', '%s could not be reached; nothing was changed, try again later', 503)
