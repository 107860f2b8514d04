# One image for every service; docker-compose.yml picks the entry point.
FROM node:24-bookworm-slim
WORKDIR /app
RUN npm install -g pnpm@12.4.2
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY packages/shared/package.json packages/shared/
COPY packages/persona-sim/package.json packages/persona-sim/
COPY packages/testing/package.json packages/testing/
COPY services/api-gateway/package.json services/api-gateway/
COPY services/webhook-receiver/package.json services/webhook-receiver/
COPY services/workers/package.json services/workers/
RUN pnpm install --frozen-lockfile --prod=false
COPY . .
USER node
ENV NODE_ENV=production
