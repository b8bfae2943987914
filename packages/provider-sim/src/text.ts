/** Word lists for generated names, titles and posts. */

export const ADJECTIVES = [
  'amber', 'brave', 'calm', 'cosmic', 'crispy', 'dapper', 'eager', 'fuzzy', 'gentle', 'glitchy',
  'happy', 'hidden', 'icy', 'jolly', 'keen', 'lucky', 'mellow', 'misty', 'neon', 'nimble',
  'odd', 'pixel', 'quiet', 'rapid', 'rusty', 'salty', 'shiny', 'sleepy', 'spicy', 'stormy',
  'sunny', 'tiny', 'turbo', 'velvet', 'wild', 'witty', 'zesty', 'lunar', 'retro', 'cozy'
] as const

export const NOUNS = [
  'otter', 'falcon', 'badger', 'comet', 'dragon', 'ember', 'fox', 'gecko', 'heron', 'koala',
  'lynx', 'moose', 'narwhal', 'owl', 'panda', 'quokka', 'raven', 'salmon', 'tiger', 'walrus',
  'yak', 'zebra', 'beacon', 'cactus', 'donut', 'goblin', 'jester', 'kettle', 'lantern', 'mango',
  'noodle', 'pickle', 'rocket', 'sprout', 'teapot', 'waffle', 'wizard', 'pebble', 'meteor', 'banjo'
] as const

export const STREAM_TITLES = [
  'Chill stream, come hang out', 'Road to top 500!', 'First playthrough — no spoilers please',
  'Sunday speedruns', 'Viewer games all night', 'Learning something new today', 'Ranked grind continues',
  'Morning coffee and chat', 'Building the base, part {n}', 'Community challenge day {n}',
  'Late night vibes', 'Trying the new patch', 'Subathon hour {n}', 'Q&A and catching up'
] as const

export const VIDEO_TITLES = [
  'Full stream: {game}', 'Highlights of the week', 'Best moments — episode {n}', 'How I set up my stream',
  'Clutch plays compilation', 'Tutorial: getting started with {game}', 'Behind the scenes {n}',
  'Reacting to your clips', 'Season recap', 'Patch notes explained'
] as const

export const POST_TEMPLATES = [
  'Going live in 10 minutes! {game} again, come say hi',
  'Thanks for {n} followers, you are all amazing',
  'New video is up: {topic}',
  'What should I play next? Replies open',
  'That last stream was something else. Clip of the day incoming',
  'Hot take: {topic} is underrated',
  'Taking a day off today, back tomorrow',
  'Just hit a new personal best in {game}!',
  'Coffee first, then {game}',
  'Schedule for this week is pinned',
  'Who else is staying up for {topic}?',
  'Little update on {topic}: it is going well',
  'Appreciate every one of you. Day {n} of streaming',
  'Learning {topic} live tonight'
] as const

export const TOPICS = [
  'speedrunning', 'pixel art', 'lo-fi music', 'indie games', 'streaming setups', 'retro consoles',
  'game design', 'cozy games', 'esports', 'mechanical keyboards', 'modding', 'level design'
] as const

export const BIO_TEMPLATES = [
  'Streaming {game} most evenings. Be nice.', 'Variety streamer and professional snack eater.',
  'I make videos about {topic}.', 'Part-time speedrunner, full-time chaos.', 'Music, games and good company.',
  'Partnered streamer. Business: see links.', 'Just here to have fun.'
] as const

export const LANGUAGES = ['en', 'en', 'en', 'en', 'de', 'fr', 'es', 'pt', 'ja'] as const

/** `{name}` placeholders replaced from the values. */
export function fill (template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const value = values[key]
    return value === undefined ? whole : String(value)
  })
}

export function capitalise (word: string): string {
  return word.length === 0 ? word : word[0]!.toUpperCase() + word.slice(1)
}
