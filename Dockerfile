# The relup runtime image: the runtime runs as tsc compiled it (dist/); tsx stays a dependency
# only to load TypeScript release modules (bin/runtime.js registers it for them alone).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund
COPY src ./src
RUN npm run build

FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY examples ./examples
COPY relups ./relups
ENTRYPOINT ["node", "bin/relup.js"]
