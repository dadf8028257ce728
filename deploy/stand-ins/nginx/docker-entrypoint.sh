#!/usr/bin/env bash
# What the official nginx image's entrypoint does with templates: each
# $NGINX_ENVSUBST_TEMPLATE_DIR/*.template becomes a file of the same name without the suffix in
# $NGINX_ENVSUBST_OUTPUT_DIR, with only the environment variables whose names match
# NGINX_ENVSUBST_FILTER (all, without a filter) substituted: nginx's own $variables stay.
set -euo pipefail

template_dir=${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}
suffix=${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}
output_dir=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
filter=${NGINX_ENVSUBST_FILTER:-}

names=$(compgen -e | grep -E -- "${filter:-.}" || true)
# shellcheck disable=SC2016,SC2086 # literal ${NAME}s, one per word of $names
defined=$(printf '${%s} ' $names)
while IFS= read -r -d '' template; do
    relative=${template#"$template_dir"/}
    output=$output_dir/${relative%"$suffix"}
    mkdir -p "$(dirname "$output")"
    envsubst "$defined" <"$template" >"$output"
    echo "rendered $template to $output"
done < <(find "$template_dir" -follow -type f -name "*$suffix" -print0 2>/dev/null)

exec "$@"
