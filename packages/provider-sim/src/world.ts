import { generatePersonas, type Persona } from './personas.js'

/**
 * Everything the simulator knows about its accounts: built once from the seed. `anchorHour` is
 * the simulated hour at which the curves have their base values (state.ts fixes it).
 */
export class World {
  readonly personas: readonly Persona[]
  private readonly byLogin: Map<string, Persona>
  private readonly byTwitchId: Map<string, Persona>
  private readonly byXId: Map<string, Persona>
  private readonly followersOf: Map<number, Array<{ persona: number, at: number }>>

  constructor (readonly seed: number, readonly anchorHour: number) {
    this.personas = generatePersonas(seed, anchorHour)
    this.byLogin = new Map(this.personas.map((p) => [p.login, p]))
    this.byTwitchId = new Map(this.personas.map((p) => [p.twitch.id, p]))
    this.byXId = new Map(this.personas.map((p) => [p.x.id, p]))
    this.followersOf = new Map()
    for (const follower of this.personas) {
      for (const follow of follower.twitch.follows) {
        const list = this.followersOf.get(follow.persona) ?? []
        list.push({ persona: follower.index, at: follow.at })
        this.followersOf.set(follow.persona, list)
      }
    }
    for (const list of this.followersOf.values()) list.sort((a, b) => a.at - b.at)
  }

  persona (login: string): Persona | undefined {
    return this.byLogin.get(login.toLowerCase())
  }

  /** Like `persona`, but an unknown login is a programming error (control surface, tests). */
  requirePersona (login: string): Persona {
    const persona = this.persona(login)
    if (persona === undefined) throw new Error(`unknown simulated login: ${login}`)
    return persona
  }

  personaByTwitchId (id: string): Persona | undefined {
    return this.byTwitchId.get(id)
  }

  personaByXId (id: string): Persona | undefined {
    return this.byXId.get(id)
  }

  personaAt (index: number): Persona {
    const persona = this.personas[index]
    if (persona === undefined) throw new Error(`no persona ${index}`)
    return persona
  }

  /** Personas who follow this one on Twitch, oldest follow first. */
  personaFollowers (persona: Persona): ReadonlyArray<{ persona: number, at: number }> {
    return this.followersOf.get(persona.index) ?? []
  }

  /** Hours since the anchor, the input of every curve. */
  offset (hour: number): number {
    return hour - this.anchorHour
  }
}
