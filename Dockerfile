# Build: compile TypeScript and the player bundle (better-sqlite3 compiles natively here).
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# swagger-ui-dist pulls in @scarf/scarf, whose install script reports the install; keep it quiet.
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY config ./config
COPY src ./src
COPY player ./player
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev

# Run: Debian's ffmpeg, production dependencies, the built server and player.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    DATABASE_URL=sqlite:/data/origin.db \
    MEDIA_DIR=/media
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/config ./config
RUN mkdir -p /data /media && chown node:node /data /media
USER node
EXPOSE 1935 8000
VOLUME ["/data", "/media"]
STOPSIGNAL SIGTERM
# Liveness, asked by node itself (the image has no curl), which reads the server's configuration.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "dist/server/healthcheck.js"]
CMD ["node", "dist/server/main.js"]
