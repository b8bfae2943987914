/** The categories streams and videos belong to (ids as Twitch has them; ids are opaque strings). */
export interface Game {
  id: string
  name: string
  igdbId: string
  /** Relative size of the audience, for Get Top Games. */
  popularity: number
}

export const GAMES: readonly Game[] = [
  { id: '509658', name: 'Just Chatting', igdbId: '', popularity: 100 },
  { id: '21779', name: 'League of Legends', igdbId: '115', popularity: 60 },
  { id: '32982', name: 'Grand Theft Auto V', igdbId: '1020', popularity: 55 },
  { id: '516575', name: 'VALORANT', igdbId: '126459', popularity: 45 },
  { id: '32399', name: 'Counter-Strike', igdbId: '241', popularity: 44 },
  { id: '33214', name: 'Fortnite', igdbId: '1905', popularity: 40 },
  { id: '27471', name: 'Minecraft', igdbId: '121', popularity: 35 },
  { id: '29595', name: 'Dota 2', igdbId: '2963', popularity: 30 },
  { id: '511224', name: 'Apex Legends', igdbId: '114795', popularity: 26 },
  { id: '18122', name: 'World of Warcraft', igdbId: '123', popularity: 22 },
  { id: '26936', name: 'Music', igdbId: '', popularity: 18 },
  { id: '515025', name: 'Overwatch 2', igdbId: '125174', popularity: 16 },
  { id: '491487', name: 'Dead by Daylight', igdbId: '18866', popularity: 14 },
  { id: '513143', name: 'Teamfight Tactics', igdbId: '120176', popularity: 12 },
  { id: '509660', name: 'Art', igdbId: '', popularity: 9 },
  { id: '30921', name: 'Rocket League', igdbId: '11198', popularity: 8 },
  { id: '138585', name: 'Hearthstone', igdbId: '1279', popularity: 7 },
  { id: '509670', name: 'Science & Technology', igdbId: '', popularity: 5 },
  { id: '1469308723', name: 'Software and Game Development', igdbId: '', popularity: 4 },
  { id: '490100', name: 'Lethal Company', igdbId: '212089', popularity: 6 },
  { id: '1678052513', name: 'Palworld', igdbId: '151665', popularity: 6 },
  { id: '512710', name: 'Call of Duty: Warzone', igdbId: '131800', popularity: 15 },
  { id: '743', name: 'Chess', igdbId: '1186', popularity: 5 },
  { id: '1745202732', name: 'Stardew Valley', igdbId: '17000', popularity: 4 }
]

const BY_ID = new Map(GAMES.map((game) => [game.id, game]))

export function gameById (id: string): Game | undefined {
  return BY_ID.get(id)
}

export function boxArtUrl (game: Game): string {
  return `https://static-cdn.jtvnw.net/ttv-boxart/${game.id}-{width}x{height}.jpg`
}
