// @ts-check
import js from '@eslint/js';
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/**
 * Process boundaries, enforced: only src-main/electron (and the preload, which
 * must call contextBridge) may import Electron; src-main/shared runs in the
 * renderer too, so it may not import Node built-ins.
 */
const electronImports = {
  paths: [{ name: 'electron', message: 'Only src-main/electron/** (and the preload) may import electron.' }],
  patterns: [{ group: ['electron/*'], message: 'Only src-main/electron/** (and the preload) may import electron.' }],
};
const nodeBuiltins = {
  paths: builtinModules.map((name) => ({ name, message: 'src-main/shared runs in the renderer too: no Node built-ins.' })),
  patterns: [{ group: ['node:*'], message: 'src-main/shared runs in the renderer too: no Node built-ins.' }],
};

/**
 * Layers inside the server import downward only: media (peers, RTP, routing,
 * mixing) knows nothing of the protocol or the API above it; the control plane
 * knows nothing of signaling or media; the headless client borrows only the
 * server's packet and codec code.
 */
const layers = {
  media: {
    regex: '^(\\.\\./)+(signaling|control-plane|app-api|http|events|auth|tls)/|chorus-server',
    message: 'src-main/server/media is below signaling, the control plane and the APIs: it may not import them.',
  },
  controlPlane: {
    regex: '^(\\.\\./)+(signaling|media|app-api|http|events)/|chorus-server',
    message: 'src-main/server/control-plane is below signaling and media: it may not import them.',
  },
  client: {
    regex: '^(\\.\\./)+server/(?!media/)',
    message: 'src-main/client may use only the server\'s packet and codec code (src-main/server/media).',
  },
};

/** The electron rule plus one layer rule, as one no-restricted-imports setting. */
const withLayer = (layer) => ['error', { paths: electronImports.paths, patterns: [...electronImports.patterns, layer] }];

export const boundaryRules = {
  electronImports,
  nodeBuiltins,
  layers,
};

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', 'test-results/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', electronImports],
    },
  },
  {
    files: ['src-main/electron/**', 'src-preload/**'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    // protoc-gen-es opens every file with a blanket eslint-disable (gen:proto
    // strips it); ignoring inline config keeps the boundary rule below in force
    // for generated code even if a file is regenerated some other way.
    files: ['src-main/shared/signaling/gen/**'],
    linterOptions: { noInlineConfig: true },
  },
  { files: ['src-main/server/media/**'], rules: { 'no-restricted-imports': withLayer(layers.media) } },
  { files: ['src-main/server/control-plane/**'], rules: { 'no-restricted-imports': withLayer(layers.controlPlane) } },
  { files: ['src-main/client/**'], rules: { 'no-restricted-imports': withLayer(layers.client) } },
  {
    files: ['src-main/shared/**'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...electronImports.paths, ...nodeBuiltins.paths],
        patterns: [...electronImports.patterns, ...nodeBuiltins.patterns],
      }],
    },
  },
);
