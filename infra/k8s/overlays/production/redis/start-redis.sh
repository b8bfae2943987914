#!/bin/sh
# Starts one Redis data node. Who is primary is the Sentinels' decision: ask them first. Only when
# none answers (the very first start of the set) is redis-0 the primary and redis-1 its replica.
set -eu
domain="${NAMESPACE}.svc.cluster.local"
self="$(hostname).redis.${domain}"
primary=""
for i in 0 1 2; do
  answer="$(REDISCLI_AUTH="${REDIS_SENTINEL_PASSWORD}" redis-cli -h "redis-sentinel-${i}.redis-sentinel.${domain}" -p 26379 \
    sentinel get-master-addr-by-name mymaster 2>/dev/null | head -n 1 || true)"
  if [ -n "${answer}" ]; then primary="${answer}"; break; fi
done
if [ -z "${primary}" ]; then primary="redis-0.redis.${domain}"; fi
conf=/run/redis/redis.conf
{
  echo "port 6379"
  echo "dir /data"
  echo "appendonly yes"
  echo "appendfsync everysec"
  echo "requirepass ${REDIS_PASSWORD}"
  echo "masterauth ${REDIS_PASSWORD}"
  # Sentinel and the replica's primary know this node by its stable DNS name, not its pod address.
  echo "replica-announce-ip ${self}"
} > "${conf}"
if [ "${primary}" != "${self}" ]; then echo "replicaof ${primary} 6379" >> "${conf}"; fi
exec redis-server "${conf}"
