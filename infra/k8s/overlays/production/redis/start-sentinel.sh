#!/bin/sh
# Starts one Sentinel. It monitors the primary the other Sentinels name (after a failover, the
# promoted one), or redis-0 when none answers (the very first start). Sentinel rewrites its own
# configuration, so it lives on a writable emptyDir.
set -eu
domain="${NAMESPACE}.svc.cluster.local"
self="$(hostname).redis-sentinel.${domain}"
primary=""
for i in 0 1 2; do
  peer="redis-sentinel-${i}.redis-sentinel.${domain}"
  if [ "${peer}" = "${self}" ]; then continue; fi
  answer="$(REDISCLI_AUTH="${REDIS_SENTINEL_PASSWORD}" redis-cli -h "${peer}" -p 26379 \
    sentinel get-master-addr-by-name mymaster 2>/dev/null | head -n 1 || true)"
  if [ -n "${answer}" ]; then primary="${answer}"; break; fi
done
if [ -z "${primary}" ]; then primary="redis-0.redis.${domain}"; fi
conf=/run/sentinel/sentinel.conf
cat > "${conf}" <<CONF
port 26379
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
sentinel announce-ip ${self}
requirepass ${REDIS_SENTINEL_PASSWORD}
sentinel sentinel-pass ${REDIS_SENTINEL_PASSWORD}
sentinel monitor mymaster ${primary} 6379 2
sentinel auth-pass mymaster ${REDIS_PASSWORD}
sentinel down-after-milliseconds mymaster 5000
sentinel failover-timeout mymaster 60000
sentinel parallel-syncs mymaster 1
CONF
exec redis-server "${conf}" --sentinel
