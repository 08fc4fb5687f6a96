"""Structured control flow as LLVM basic blocks, with block parameters and results as SSA.

Each wasm block, loop, if and the function body is a ControlFrame. A branch to a frame goes
to its *label*: a loop's header (carrying the loop parameters in phis made when the loop is
entered, since back edges come later), or the merge block after the frame's `end` (carrying
its results). Every branch to a merge block is recorded as an edge (source block, values);
at `end` all edges are known, so the merge block is made only if something reaches it, and
its phis only if more than one edge does. A frame with only a fall-through edge needs no merge
block at all.
"""

from dataclasses import dataclass, field

from . import ir_text as ir
from .signatures import llvm_type


@dataclass
class ControlFrame:
    kind: str                  # 'block' | 'loop' | 'if' | 'function' | 'try_table' | 'try'
    params: tuple              # wasm value types
    results: tuple
    height: int                # operand stack height below the params
    live: bool                 # entered on a reachable path (else the whole frame is dead)
    header: ir.Block | None = None       # loop: the branch target
    header_phis: list = field(default_factory=list)
    merge: ir.Block | None = None        # block/if/function: the branch target, made lazily
    edges: list = field(default_factory=list)   # [(source block, values)] into `merge`
    else_block: ir.Block | None = None   # if: where the condition's false edge goes
    if_params: list = field(default_factory=list)   # if: the params again, for the else arm
    # How many try bodies of the function enclose the frame (exceptions.Handlers): a branch
    # to its label from deeper leaves try bodies, and puts the handler of this depth back.
    handler_depth: int = 0
    # Legacy try: the exception its landing code loaded, the block the landing code's test of
    # the next catch goes in (None after catch_all), and whether its body is being translated.
    exn: ir.Value | None = None
    dispatch: ir.Block | None = None
    in_body: bool = False

    @property
    def branch_types(self):
        """The types a branch to this frame carries."""
        return self.params if self.kind == "loop" else self.results


def branch_target(fx, frame, values):
    """The block a branch from the current block to `frame` goes to, with `values` recorded
    as that edge's block arguments. The caller emits the branch instruction."""
    source = fx.builder.block
    if frame.kind == "loop":
        for phi, value in zip(frame.header_phis, values):
            phi.add_incoming(value, source)
        return frame.header
    if frame.merge is None:
        frame.merge = fx.fn.append_basic_block(f"{frame.kind}.end")
    frame.edges.append((source, list(values)))
    return frame.merge


def enter_loop(fx, frame, values):
    """Branch into a new loop header whose phis carry the loop parameters."""
    frame.header = fx.fn.append_basic_block("loop")
    header_builder = ir.IRBuilder(frame.header)
    frame.header_phis = [header_builder.phi(llvm_type(t)) for t in frame.params]
    fx.builder.branch(branch_target(fx, frame, values))
    fx.builder.position_at_end(frame.header)
    return list(frame.header_phis)


def close_merge(fx, frame):
    """Position the builder at the frame's merge block and return the result values, or
    None when nothing reaches the end of the frame."""
    if not frame.edges:
        return None
    fx.builder.position_at_end(frame.merge)
    if len(frame.edges) == 1:
        return frame.edges[0][1]
    phis = []
    for i, valtype in enumerate(frame.results):
        phi = fx.builder.phi(llvm_type(valtype))
        for source, values in frame.edges:
            phi.add_incoming(values[i], source)
        phis.append(phi)
    return phis
