// The store's tests use the project's one set of fixtures (test/support/fixtures.ts).
export * from '../../test/support/fixtures.js';
