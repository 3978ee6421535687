# syntax=docker/dockerfile:1
# The danube-connect image: the host and the MQTT plugins installed from this repository's packed tarballs, run as a
# non-root user. Build: `docker build -t danube-connect .` (add --build-arg PLUGINS="..." for other plugins); run:
# `docker run -v ./host.toml:/config/host.toml:ro danube-connect`. README "Containers and Kubernetes".
# test/container-install.test.ts runs this file's RUN, HEALTHCHECK, ENTRYPOINT and CMD steps as written (no image
# can be built where the tests run), so keep the steps in docker/ and the lines here simple.
ARG NODE_IMAGE=node:20-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund && npm run build && npm run pack -- /packs

FROM ${NODE_IMAGE}
ARG PLUGINS="@danube-plugin/source-mqtt @danube-plugin/sink-mqtt"
# Bind mounts, not COPY: the tarballs and the npm cache never become a layer of the image.
RUN --mount=type=bind,from=build,source=/packs,target=/packs --mount=type=bind,source=docker,target=/tmp/docker --mount=type=cache,target=/root/.npm node /tmp/docker/install.mjs /packs /opt/danube-connect ${PLUGINS}
ENV PATH=/opt/danube-connect/node_modules/.bin:$PATH NODE_ENV=production
# The base image's "node" user, by number so Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
USER 1000:1000
WORKDIR /config
EXPOSE 9464
# /healthz on host.toml's [host] http, over loopback: a HEALTHCHECK runs in the container's network namespace.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "/opt/danube-connect/healthcheck.mjs", "/config/host.toml"]
# node is PID 1 and drains on SIGTERM (docker stop): give it more than [host] shutdown_timeout_ms (docker stop -t).
ENTRYPOINT ["/opt/danube-connect/node_modules/.bin/danube-connect"]
CMD ["run", "/config/host.toml"]
