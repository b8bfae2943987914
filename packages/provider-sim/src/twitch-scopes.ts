/**
 * Scopes Twitch accepts at /oauth2/authorize. Requests for anything else are refused, as a typo in a
 * client's scope list is refused by Twitch.
 */
export const TWITCH_SCOPES: ReadonlySet<string> = new Set([
  'analytics:read:extensions', 'analytics:read:games', 'bits:read', 'channel:bot', 'channel:edit:commercial',
  'channel:manage:broadcast', 'channel:manage:moderators', 'channel:manage:polls', 'channel:manage:predictions',
  'channel:manage:redemptions', 'channel:manage:schedule', 'channel:manage:videos', 'channel:manage:vips',
  'channel:moderate', 'channel:read:charity', 'channel:read:editors', 'channel:read:goals', 'channel:read:hype_train',
  'channel:read:polls', 'channel:read:predictions', 'channel:read:redemptions', 'channel:read:stream_key',
  'channel:read:subscriptions', 'channel:read:vips', 'chat:edit', 'chat:read', 'clips:edit', 'moderation:read',
  'moderator:read:chatters', 'moderator:read:followers', 'moderator:manage:announcements', 'user:bot',
  'user:edit', 'user:read:blocked_users', 'user:read:broadcast', 'user:read:chat', 'user:read:email',
  'user:read:emotes', 'user:read:follows', 'user:read:moderated_channels', 'user:read:subscriptions',
  'user:write:chat', 'whispers:read'
])
