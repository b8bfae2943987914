/**
 * The provider simulator's fixed development credentials, the one copy every package uses: the
 * simulator accepts them, the services default to them locally, and production refuses them. They
 * are public (docs/api.md, "The provider simulator"). `twitterOAuth2` is the
 * simulator's own addition: a confidential X OAuth 2.0 client (a "Web App") for the PKCE flow.
 */
export const SIMULATOR_CREDENTIALS = {
  twitch: { clientId: 'pulsesimtwitchclientid00000000', clientSecret: 'pulsesimtwitchclientsecret0000' },
  twitter: { consumerKey: 'pulsesimxconsumerkey0000', consumerSecret: 'pulsesimxconsumersecret000000000000000000000' },
  twitterOAuth2: { clientId: 'cHVsc2VzaW14b2F1dGgyY2xpZW50OjE6Y2k', clientSecret: 'pulsesimxoauth2clientsecret00000000000000000000000' }
} as const satisfies {
  twitch: { clientId: string, clientSecret: string }
  twitter: { consumerKey: string, consumerSecret: string }
  twitterOAuth2: { clientId: string, clientSecret: string }
}
