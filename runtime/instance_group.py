"""Which thread may run an instance: the rule both engines enforce.

WebAssembly 2.0 has no shared memory, and an instance is not safe to run on two threads at
once: one thread's memory.grow could move or remap memory under the other's accesses.
Instances linked by imports (of another instance's function, memory, table or global) share
that state, so they form one group, as a wasmtime Store does. A group runs on one thread at
a time: a call from Python into a group that another thread is running in raises
ConcurrentCallError at once, without waiting (waiting could deadlock two threads each
calling into the other's group from a host function); the thread running in a group may
call into it again, as a host function calling back into wasm does. Different groups run in
parallel.

Linking merges groups, which is rare: a merged group points to the one it joined, and a
thread that entered a group just merged away leaves it and enters the group it joined.
"""

import threading

from .errors import ConcurrentCallError

_get_ident = threading.get_ident


class InstanceGroup:
    __slots__ = ("_lock", "_owner", "_merged_into")

    def __init__(self):
        self._lock = threading.Lock()     # held by the thread running in the group
        self._owner = None                # that thread's id
        self._merged_into = None

    def root(self):
        group = self
        while group._merged_into is not None:
            group = group._merged_into
        return group

    def enter(self):
        """Let the calling thread run in the group. Returns the group to `leave` when the
        call is over, or None when the thread is running in it already."""
        me = _get_ident()
        while True:
            group = self.root()
            if group._owner == me:        # only this thread sets _owner to its id
                return None
            if not group._lock.acquire(blocking=False):
                raise ConcurrentCallError()
            if group._merged_into is None:
                group._owner = me
                return group
            group._lock.release()

    def leave(self):
        self._owner = None
        self._lock.release()


def link(groups):
    """The group of a new instance that imports from instances of `groups`: all of them
    merged into one, entered by the calling thread while the instance is created (its
    segments may write to imported memories and tables, its start function runs). Returns
    (group, entered): `entered` is the group to `leave` afterwards, or None."""
    me = _get_ident()
    while True:
        roots = list({id(root): root for root in (g.root() for g in groups)}.values())
        running_here = [root for root in roots if root._owner == me]
        if len(running_here) > 1:
            raise ConcurrentCallError("cannot link instances of two groups that are both "
                                      "running")
        acquired = []
        try:
            for root in roots:
                if root._owner != me:
                    if not root._lock.acquire(blocking=False):
                        raise ConcurrentCallError()
                    acquired.append(root)
        except ConcurrentCallError:
            for root in acquired:
                root._lock.release()
            raise
        if all(root._merged_into is None for root in acquired):
            break
        for root in acquired:              # merged meanwhile: start again
            root._lock.release()
    if running_here:
        target, entered = running_here[0], None
    elif acquired:
        target = entered = acquired.pop(0)
        target._owner = me
    else:
        target = entered = InstanceGroup()
        target.enter()
    for root in acquired:
        if root is not target:
            root._merged_into = target
            root._lock.release()
    return target, entered
