import { AUTH_STREAM, CONTACT_STREAM, METRICS_STREAM, NOTIFY_STREAM, TWITCH_EVENTSUB_STREAM } from '@pulse/contracts'
import { stringify } from 'yaml'
import { baseKustomization, natsStatefulSet, serviceFiles } from './k8s.js'
import { passwordVariable, readPermissions, renderNatsConf } from './nats.js'
import { SERVICES } from './services.js'

/** The JetStream streams of @pulse/contracts. */
export const STREAMS = [AUTH_STREAM, CONTACT_STREAM, METRICS_STREAM, NOTIFY_STREAM, TWITCH_EVENTSUB_STREAM]

const HEADER = '# Generated from infra/src/services.ts by `pnpm --filter @pulse/infra generate`: edit that list, not this file.\n'

function yamlDocuments (docs: object[]): string {
  return HEADER + docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n')
}

/** Every generated file, as a path relative to infra/ → its content. */
export function generatedFiles (): Record<string, string> {
  const files: Record<string, string> = {}
  for (const s of SERVICES) {
    for (const [name, docs] of Object.entries(serviceFiles(s))) files[`k8s/services/${s.name}/${name}`] = yamlDocuments(docs)
  }
  files['k8s/base/kustomization.yaml'] = yamlDocuments([baseKustomization()])
  const permissions = readPermissions()
  files['k8s/base/nats/statefulset.yaml'] = yamlDocuments([natsStatefulSet(Object.keys(permissions.users), passwordVariable)])
  const conf = renderNatsConf(permissions, STREAMS)
  files['nats/nats.conf'] = conf
  // kustomize reads files only from inside a kustomization's folder: the NATS ConfigMap gets its own copy.
  files['k8s/base/nats/nats.conf'] = conf
  return files
}
