'use strict'
// Every package we publish says MIT, the licence in LICENSE: run with node --test npm/test/
// (scripts/test-npm checks the package.json files scripts/build-npm generates, and e2e the bundle's manifest).

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.join(__dirname, '..', '..')

test('LICENSE is the MIT licence of MeshAI Labs', () => {
  const text = fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')
  assert.match(text, /^MIT License\n\nCopyright \(c\) 2026 MeshAI Labs\n/)
  assert.match(text, /Permission is hereby granted, free of charge, to any person obtaining a copy/)
  assert.match(text, /THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND/)
})

test('every package.json template and the bundle manifest say MIT', () => {
  const files = ['npm/meshai-mcp-server/package.json', 'npm/platform/package.json', 'mcpb/manifest.json']
  // Any other package.json in the tree (outside node_modules and dist) that is not private must say it too.
  const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name === 'dist' || e.name.startsWith('.')) return []
    const p = path.join(dir, e.name)
    if (e.isDirectory()) return walk(p)
    return e.name === 'package.json' ? [path.relative(ROOT, p)] : []
  })
  for (const f of walk(ROOT)) if (!files.includes(f)) files.push(f)
  for (const f of files) {
    // The platform template holds {{placeholders}} in strings only, so it parses as JSON.
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, f), 'utf8'))
    if (pkg.private === true) continue
    assert.equal(pkg.license, 'MIT', f)
  }
})
