# Sourced by run.sh and profile.sh: sets up the gateway path every measured call takes, as a
# production call would: a user access token, the user's own stored (encrypted) provider key, a
# budget on that user, and a per-minute limit on the model high enough never to refuse.
#
#   setup_production_path BASE_URL ADMIN_TOKEN OUT_DIR
#
# Writes OUT_DIR/user-token (the bearer the load uses) and OUT_DIR/model.json, key.json, budget.json.
# Usage, key counters and metrics are on by default in `serve`; nothing here turns them off.
setup_production_path() {
  local base=$1 admin=$2 out=$3 user=bench-user
  local -a auth=(-H "Authorization: Bearer $admin" -H 'Content-Type: application/json')
  curl -sf -X POST "$base/api/models" "${auth[@]}" \
    -d '{"name":"bench/echo","provider":"openai","modelId":"fake-echo","maxTokens":64,"inputCostPer1kTokens":0.001,"outputCostPer1kTokens":0.002,"rateLimitPerMinute":10000000}' \
    > "$out/model.json" || { echo "could not create the model" >&2; return 1; }
  curl -sf -X POST "$base/api/tokens" "${auth[@]}" -d "{\"role\":\"user\",\"userId\":\"$user\",\"name\":\"bench\"}" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])' > "$out/user-token" \
    || { echo "could not create the user token" >&2; return 1; }
  # The user's own key (stored encrypted, bound to the fake's endpoint); every call resolves and decrypts it.
  curl -sf -X POST "$base/api/api-keys?skipValidation=true" "${auth[@]}" \
    -d "{\"userId\":\"$user\",\"provider\":\"openai\",\"keyName\":\"bench\",\"apiKey\":\"sk-bench-user-0123456789abcdef\"}" \
    > "$out/key.json" || { echo "could not store the user key" >&2; return 1; }
  # A budget far above what the run spends: admission reserves and settlement settles on every call.
  curl -sf -X POST "$base/api/budgets" "${auth[@]}" -d "{\"userId\":\"$user\",\"period\":\"month\",\"maxCost\":1000000}" \
    > "$out/budget.json" || { echo "could not create the budget" >&2; return 1; }
}

# Round one's lighter path, for comparing builds on what both can do: the admin token and a stored
# shared key; no user token, user key, budget or limit.
#
#   setup_light_path BASE_URL ADMIN_TOKEN OUT_DIR
setup_light_path() {
  local base=$1 admin=$2 out=$3
  local -a auth=(-H "Authorization: Bearer $admin" -H 'Content-Type: application/json')
  curl -sf -X POST "$base/api/models" "${auth[@]}" \
    -d '{"name":"bench/echo","provider":"openai","modelId":"fake-echo","maxTokens":64,"inputCostPer1kTokens":0.001,"outputCostPer1kTokens":0.002}' \
    > "$out/model.json" || { echo "could not create the model" >&2; return 1; }
  curl -sf -X POST "$base/api/api-keys?skipValidation=true" "${auth[@]}" \
    -d '{"shared":true,"provider":"openai","keyName":"bench","apiKey":"sk-bench-stored-0123456789abcdef"}' \
    > "$out/key.json" || { echo "could not store the shared key" >&2; return 1; }
}
