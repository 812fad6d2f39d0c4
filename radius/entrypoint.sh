#!/bin/bash
# The RADIUS service's entrypoint (radius/Containerfile; ECS on Fargate, infra/template.yaml).
#
# At start it reads from SSM Parameter Store, with the task role's credentials:
#   RADIUS_API_SECRET_PARAM   the secret FreeRADIUS presents to the radius function (RADIUS_API_SECRET)
#   RADIUS_TLS_KEY_PARAM      RadSec server key   -> $RADIUS_TLS_DIR/server.key
#   RADIUS_TLS_CERT_PARAM     RadSec server cert  -> $RADIUS_TLS_DIR/server.pem
#   RADIUS_TLS_CA_PARAM       CA of the routers' client certificates -> $RADIUS_TLS_DIR/ca.pem
#   RADIUS_CLIENTS_PATH       every parameter directly under this path is one RouterOS v6 router's
#                             `client <id> { ... }` block (hotspotctl router add --mode radius);
#                             concatenated, sorted by name, into clients.conf
# then checks the configuration (freeradius -C) and runs FreeRADIUS in the foreground. Every
# RADIUS_CLIENTS_REFRESH_SECONDS (300) it reads the clients again; when they changed and the new
# configuration checks, it restarts FreeRADIUS (about a second: UDP requests in that gap are
# resent by the routers, RadSec connections reconnect). FreeRADIUS 3 reads clients only at start:
# a HUP reloads modules, not clients (docs/radius.md, "The RADIUS service in AWS").
#
# Small on purpose: bash, curl (SigV4 signing: --aws-sigv4) and jq, no AWS CLI. Credentials come
# from the ECS container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI), else AWS_ACCESS_KEY_ID /
# AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN. AWS_ENDPOINT_URL_SSM overrides the endpoint (tests).
set -euo pipefail

: "${AWS_REGION:?}" "${RADIUS_API_SECRET_PARAM:?}" "${RADIUS_CLIENTS_PATH:?}"
: "${RADIUS_TLS_KEY_PARAM:?}" "${RADIUS_TLS_CERT_PARAM:?}" "${RADIUS_TLS_CA_PARAM:?}"
: "${RADIUS_RUN_DIR:?}" "${RADIUS_TLS_DIR:?}"
refresh=${RADIUS_CLIENTS_REFRESH_SECONDS:-300}
source_conf=${RADIUS_CONF:-/etc/hotspot-radius/radiusd.conf}
ssm_url=${AWS_ENDPOINT_URL_SSM:-https://ssm.${AWS_REGION}.amazonaws.com}
radiusd=$(command -v freeradius || command -v radiusd)
conf=$RADIUS_RUN_DIR/raddb
next=$RADIUS_RUN_DIR/raddb.next
umask 077

log() { printf '%s hotspot-radius: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }

credentials() {
	if [[ -n ${AWS_CONTAINER_CREDENTIALS_RELATIVE_URI:-} ]]; then
		local c
		c=$(curl -sS --fail --max-time 5 "http://169.254.170.2${AWS_CONTAINER_CREDENTIALS_RELATIVE_URI}")
		key_id=$(jq -er .AccessKeyId <<<"$c")
		secret_key=$(jq -er .SecretAccessKey <<<"$c")
		token=$(jq -r '.Token // ""' <<<"$c")
	else
		key_id=${AWS_ACCESS_KEY_ID:?no credentials: no ECS container endpoint, no AWS_ACCESS_KEY_ID}
		secret_key=${AWS_SECRET_ACCESS_KEY:?}
		token=${AWS_SESSION_TOKEN:-}
	fi
}

# ssm OPERATION JSON: one SSM API call, its JSON answer on stdout. The keys go to curl through a
# config on a pipe, never on its command line.
ssm() {
	local headers=(-H "Content-Type: application/x-amz-json-1.1" -H "X-Amz-Target: AmazonSSM.$1")
	if [[ -n $token ]]; then headers+=(-H "X-Amz-Security-Token: $token"); fi
	curl -sS --fail-with-body --max-time 10 --aws-sigv4 "aws:amz:${AWS_REGION}:ssm" \
		--config <(printf 'user = "%s:%s"\n' "$key_id" "$secret_key") \
		"${headers[@]}" --data "$2" "$ssm_url/"
}

parameter() {
	ssm GetParameter "$(jq -nc --arg n "$1" '{Name: $n, WithDecryption: true}')" | jq -er .Parameter.Value
}

# clients FILE: every client block under RADIUS_CLIENTS_PATH, sorted by parameter name. A value
# that is not one `client <name> {` block, or that holds a `$` (an $INCLUDE, an $ENV{...}), is left
# out and logged.
clients() {
	local next_token="" page body all
	all=$(mktemp)
	while :; do
		body=$(jq -nc --arg p "$RADIUS_CLIENTS_PATH" --arg t "$next_token" \
			'{Path: $p, Recursive: false, WithDecryption: true, MaxResults: 10} + (if $t == "" then {} else {NextToken: $t} end)')
		page=$(ssm GetParametersByPath "$body")
		jq -c '.Parameters[] | {Name, Value}' <<<"$page" >>"$all"
		next_token=$(jq -r '.NextToken // ""' <<<"$page")
		[[ -n $next_token ]] || break
	done
	jq -r 'select((.Value | test("^client [A-Za-z0-9_.-]+ [{]")) and (.Value | contains("$") | not) | not) | .Name' "$all" |
		while read -r bad; do log "left out $bad: not one client block"; done
	jq -rs 'map(select((.Value | test("^client [A-Za-z0-9_.-]+ [{]")) and (.Value | contains("$") | not)))
		| sort_by(.Name)[] | "# \(.Name)\n\(.Value)\n"' "$all" >"$1"
	rm -f "$all"
}

check() { (cd "$1" && "$radiusd" -C -n radiusd -d "$1" >/dev/null 2>"$1/check.log") || { cat "$1/check.log" >&2; return 1; }; }

start() {
	(cd "$conf" && exec "$radiusd" -f -l stdout -n radiusd -d "$conf") &
	pid=$!
}

stop() {
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" || true
}

mkdir -p "$conf" "$next" "$RADIUS_TLS_DIR"
cp "$source_conf" "$conf/radiusd.conf"
cp "$source_conf" "$next/radiusd.conf"
credentials
RADIUS_API_SECRET=$(parameter "$RADIUS_API_SECRET_PARAM")
export RADIUS_API_SECRET
parameter "$RADIUS_TLS_KEY_PARAM" >"$RADIUS_TLS_DIR/server.key"
parameter "$RADIUS_TLS_CERT_PARAM" >"$RADIUS_TLS_DIR/server.pem"
parameter "$RADIUS_TLS_CA_PARAM" >"$RADIUS_TLS_DIR/ca.pem"
clients "$conf/clients.conf"
check "$conf" || { log "the configuration does not check: not starting"; exit 1; }
log "starting FreeRADIUS with $(grep -c '^client ' "$conf/clients.conf" || true) UDP clients"
start
trap 'stop; exit 0' TERM INT

while :; do
	sleep "$refresh" &
	wait -n "$!" "$pid" || true
	if ! kill -0 "$pid" 2>/dev/null; then
		wait "$pid" && status=0 || status=$?
		log "FreeRADIUS exited ($status)"
		exit "${status:-1}"
	fi
	if ! { credentials && clients "$next/clients.conf"; }; then
		log "reading the clients failed: keeping the running ones"
		continue
	fi
	cmp -s "$next/clients.conf" "$conf/clients.conf" && continue
	if ! check "$next"; then
		log "the new clients do not check: keeping the running ones"
		continue
	fi
	cp "$next/clients.conf" "$conf/clients.conf"
	log "clients changed ($(grep -c '^client ' "$conf/clients.conf" || true) now): restarting FreeRADIUS"
	stop
	start
done
