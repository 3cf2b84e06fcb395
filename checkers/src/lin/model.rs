//! The [`Model`] trait (a sequential specification) and the [`Op`] a history is made of.

use super::append_log::Decision;
use std::fmt::Debug;
use std::hash::Hash;

/// A sequential specification the search checks a history against.
///
/// `step` is a pure function. `output` is `None` for an operation whose outcome is unknown
/// (Jepsen `:info`): the model then applies the operation's effect without checking a result.
pub trait Model {
    /// The state of (one partition of) the object.
    type State: Clone + Eq + Hash + Debug;
    /// What a client asked for.
    type Input: Clone + Debug;
    /// What it was told.
    type Output: Clone + Debug;

    /// The initial state.
    fn init(&self) -> Self::State;

    /// The state after `input` with result `output` at `state`, or `None` if the result is
    /// impossible there.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;

    /// Whether a read-only operation (see [`Model::is_read_only`]) fits `state`; the search
    /// calls it instead of `step` for those, to avoid building a state it already has.
    fn accepts(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> bool {
        self.step(state, input, output).is_some()
    }

    /// Whether a read-only operation that does not fit `state` can never fit, whatever
    /// subset of `writers` (the not-yet-linearized, state-changing operations that may still be
    /// linearized before it returns) is applied in whatever order. Returning `true` prunes the
    /// configuration; the default never prunes.
    fn unreachable(
        &self,
        _state: &Self::State,
        _input: &Self::Input,
        _output: Option<&Self::Output>,
        _writers: &[&Self::Input],
    ) -> bool {
        false
    }

    /// Whether the search should look ahead after every state change: a configuration is dead
    /// when some read-only operation still to be linearized does not fit the new state,
    /// [`Model::unreachable`] says it can never fit with no writer's help, and every writer that
    /// [`Model::may_rescue`] it is already linearized. Off by default (it costs a scan of the
    /// pending reads per new state).
    fn lookahead(&self) -> bool {
        false
    }

    /// Whether `writer`, linearized after some state, could make a read-only operation fit that
    /// [`Model::unreachable`] (with no writers) rejects there. The default, `true`, is always
    /// sound.
    fn may_rescue(
        &self,
        _input: &Self::Input,
        _output: Option<&Self::Output>,
        _writer: &Self::Input,
    ) -> bool {
        true
    }

    /// Whether the operation never changes the state wherever `step` accepts it (a read, a
    /// failed compare-and-set). Such operations are linearized eagerly, without a choice
    /// point: it is always safe to linearize a state-preserving operation as early as it may.
    fn is_read_only(&self, input: &Self::Input, output: Option<&Self::Output>) -> bool;

    /// Whether an operation with an unknown outcome can be dropped: it constrains nothing when
    /// it is read-only whatever it returned.
    fn unknown_is_noop(&self, input: &Self::Input) -> bool;

    /// The objects the operation touches, for P-compositional partitioning. Operations that
    /// share a key are checked together; the empty string stands for "the one object".
    fn keys(&self, input: &Self::Input) -> Vec<String>;

    /// A complete decision procedure for one partition, when the model has one for these
    /// operations (e.g. [`super::append_log`] for kv histories with unique written values);
    /// `None` (the default) leaves the partition to the search. Operation numbers in the answer
    /// index `ops`. A `Linearizable` answer is reported only after its witness passes
    /// [`super::witness::verify`].
    fn decide(&self, _ops: &[&Op<Self::Input, Self::Output>]) -> Option<Decision> {
        None
    }

    /// A short human description of an operation, for reports.
    fn describe_op(&self, input: &Self::Input, output: Option<&Self::Output>) -> String;

    /// A short human description of a state, for reports.
    fn describe_state(&self, state: &Self::State) -> String;
}

/// One operation of a history: its interval and what it asked and got.
///
/// `call` and `ret` are positions on one time line (virtual ns or event indices). Equal
/// positions are concurrent (closed intervals). `ret` is `None` and `output` is `None` for an
/// unknown outcome: it may take effect at any time after `call`, or never.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op<I, O> {
    /// The client process (a row in the timeline).
    pub client: u64,
    /// The request.
    pub input: I,
    /// The result, `None` when unknown.
    pub output: Option<O>,
    /// When it was invoked.
    pub call: u64,
    /// When it returned, `None` when unknown.
    pub ret: Option<u64>,
    /// The 1-based line of its invocation in the source file (0 if none).
    pub line: usize,
}

impl<I, O> Op<I, O> {
    /// Whether the outcome is known.
    pub fn is_determinate(&self) -> bool {
        self.ret.is_some() && self.output.is_some()
    }
}
