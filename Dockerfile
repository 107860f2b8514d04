# syntax=docker/dockerfile:1
# One image for every service; docker-compose.yml picks the entry point. The services run their
# TypeScript directly (Node's type stripping), so nothing is compiled: the `deps` stage
# installs production dependencies only, and the final stage puts them next to the sources
# and runs as the unprivileged `node` user. pnpm itself stays in the `deps` stage.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS deps
ENV CI=true
WORKDIR /app
RUN npm install -g pnpm@12.4.2
# Only the manifests, so the install layer is cached until a dependency changes. Every
# workspace package is listed (test/compose.int.test.ts checks): the lockfile names them all.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY packages/shared/package.json packages/shared/
COPY packages/persona-sim/package.json packages/persona-sim/
COPY packages/testing/package.json packages/testing/
COPY services/api-gateway/package.json services/api-gateway/
COPY services/webhook-receiver/package.json services/webhook-receiver/
COPY services/workers/package.json services/workers/
# Workspace packages are linked by relative symlinks, which stay valid in the final stage.
RUN --mount=type=cache,id=pnpm-store,target=/pnpm-store \
    pnpm install --prod --frozen-lockfile --store-dir /pnpm-store

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app ./
# .dockerignore keeps secrets (.env*), local data, tests and tooling out.
COPY . .
# The official image's `node` user (uid 1000), given by number so that Kubernetes'
# runAsNonRoot can verify it. The files stay root's: the process cannot rewrite its code.
USER 1000:1000
CMD ["node", "services/api-gateway/src/main.ts"]
