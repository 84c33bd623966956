# The relup runtime image: the sources run through tsx, so TypeScript releases load as they are.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY src ./src
COPY bin ./bin
COPY examples ./examples
COPY relups ./relups
ENTRYPOINT ["node", "bin/relup.js"]
