import { describe, expect, it } from 'vitest';
import { allowedRoleTransitions, assertRoleTransition } from '../../../src/raft/role-transitions.js';
import type { RaftRole } from '../../../src/raft/raft-types.js';

const roles: RaftRole[] = ['follower', 'preCandidate', 'candidate', 'leader'];

describe('role transitions', () => {
  it('allows exactly the transitions in the table', () => {
    const allowed = roles.flatMap((from) => roles.filter((to) => {
      try {
        assertRoleTransition(from, to);
        return true;
      } catch {
        return false;
      }
    }).map((to) => `${from}->${to}`));
    expect(allowed).toEqual(roles.flatMap((from) => allowedRoleTransitions[from].map((to) => `${from}->${to}`)));
    expect(allowed).not.toContain('follower->leader');
    expect(allowed).not.toContain('leader->candidate');
  });

  it('throws on an illegal transition, naming it', () => {
    expect(() => assertRoleTransition('leader', 'candidate')).toThrow('illegal Raft role transition leader -> candidate (allowed from leader: follower)');
  });
});
