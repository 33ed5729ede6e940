// SequentialPropagatorBlock: the shape the framing blocks share.
//
// Maintainer's overview
// - Input: an ActionBlock that runs ProcessAsync one message at a time (MaxDegreeOfParallelism 1), so a derived block's
//   state (a FrameDecoder and its unconsumed bytes) needs no lock. ProcessAsync hands each output to EmitAsync, which
//   sends it to the output BufferBlock and waits while that is full: a slow consumer fills the output, then the input,
//   then postpones offers upstream. Both are bounded by the options' BoundedCapacity.
// - Faults: Dataflow faults a block at once and drops what its output holds. That would lose the frames decoded before
//   a corrupt one, which the framing rules promise to deliver first. So a fault raised by ProcessAsync (or by CheckInputEnd)
//   only *completes* the output: what it holds is still offered, and this block's Completion faults once the last of
//   it was taken. Completion is therefore this block's own task, not the output's, and LinkTo propagates it itself,
//   exactly as Dataflow does (Fault with the AggregateException; Complete when cancelled). Propagating links live in a
//   list they leave when disposed, so the links ReceiveAsync and OutputAvailableAsync make and drop for every call
//   leave nothing behind.
// - Fault() from outside keeps Dataflow's meaning: stop now and drop everything.

using System.Diagnostics.CodeAnalysis;
using System.Threading.Tasks.Dataflow;

namespace AsyncNet.Streams.Dataflow;

/// <summary>
/// A propagator that turns each input into any number of outputs, one input at a time and in order, and reports a
/// processing fault only after every output produced before it was taken.
/// </summary>
/// <typeparam name="TInput">What the block accepts.</typeparam>
/// <typeparam name="TOutput">What the block offers.</typeparam>
internal abstract class SequentialPropagatorBlock<TInput, TOutput> : IPropagatorBlock<TInput, TOutput>, IReceivableSourceBlock<TOutput>
{
    private readonly ActionBlock<TInput> _input;
    private readonly BufferBlock<TOutput> _output;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationToken _cancellationToken;

    // Cancelled by Fault (and by the options' token): stops an EmitAsync waiting for room.
    private readonly CancellationTokenSource _stop;

    // The fault to report once the output is delivered; written before the output is completed, read after it completed.
    private volatile IReadOnlyCollection<Exception>? _deferredFault;

    // Links made with PropagateCompletion and not disposed; null once Completion is done (later links propagate at once).
    // Guarded by itself until then.
    private List<PropagatingLink>? _propagatingLinks = [];

    /// <summary>Creates the block's input and output.</summary>
    /// <param name="options">The input's and the output's settings; <see langword="null"/> for a capacity of <paramref name="defaultCapacity"/>.</param>
    /// <param name="defaultCapacity">The BoundedCapacity used when <paramref name="options"/> is null.</param>
    protected SequentialPropagatorBlock(DataflowBlockOptions? options, int defaultCapacity)
    {
        options ??= new DataflowBlockOptions { BoundedCapacity = defaultCapacity };
        _cancellationToken = options.CancellationToken;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(options.CancellationToken);
        _input = new ActionBlock<TInput>(ProcessAsync, new ExecutionDataflowBlockOptions
        {
            BoundedCapacity = options.BoundedCapacity,
            CancellationToken = options.CancellationToken,
            MaxMessagesPerTask = options.MaxMessagesPerTask,
            TaskScheduler = options.TaskScheduler,
            MaxDegreeOfParallelism = 1,
        });
        _output = new BufferBlock<TOutput>(new DataflowBlockOptions
        {
            BoundedCapacity = options.BoundedCapacity,
            CancellationToken = options.CancellationToken,
            MaxMessagesPerTask = options.MaxMessagesPerTask,
            TaskScheduler = options.TaskScheduler,
        });
        _ = _input.Completion.ContinueWith(
            static (completion, state) => ((SequentialPropagatorBlock<TInput, TOutput>)state!).InputCompleted(completion),
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        _ = _output.Completion.ContinueWith(
            static (completion, state) => ((SequentialPropagatorBlock<TInput, TOutput>)state!).OutputCompleted(completion),
            this,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>
    /// Completes when the input is complete and every output was taken; faults with a processing error only after every
    /// output produced before it was taken; cancelled by the options' token.
    /// </summary>
    public Task Completion => _completion.Task;

    /// <summary>How many inputs wait to be processed.</summary>
    public int InputCount => _input.InputCount;

    /// <summary>How many outputs wait to be taken.</summary>
    public int OutputCount => _output.Count;

    /// <summary>How many links wait to have completion propagated to them (tests).</summary>
    internal int PropagatingLinkCount
    {
        get
        {
            List<PropagatingLink>? links = Volatile.Read(ref _propagatingLinks);
            if (links is null)
            {
                return 0;
            }

            lock (links)
            {
                return links.Count;
            }
        }
    }

    /// <summary>Accepts no more input; what was accepted is still processed and offered, then the block completes.</summary>
    public void Complete() => _input.Complete();

    /// <summary>Faults the block now: queued inputs and untaken outputs are dropped (Dataflow's meaning of Fault).</summary>
    /// <param name="exception">The fault.</param>
    /// <exception cref="ArgumentNullException"><paramref name="exception"/> is null.</exception>
    public void Fault(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ((IDataflowBlock)_input).Fault(exception);
        ((IDataflowBlock)_output).Fault(exception);
        _stop.Cancel();
    }

    /// <inheritdoc/>
    public DataflowMessageStatus OfferMessage(DataflowMessageHeader messageHeader, TInput messageValue, ISourceBlock<TInput>? source, bool consumeToAccept) =>
        ((ITargetBlock<TInput>)_input).OfferMessage(messageHeader, messageValue, source, consumeToAccept);

    /// <summary>Links the block's output to <paramref name="target"/>.</summary>
    /// <param name="target">The target.</param>
    /// <param name="linkOptions">The link's settings; with <see cref="DataflowLinkOptions.PropagateCompletion"/> the target is completed or faulted as <see cref="Completion"/> is.</param>
    /// <returns>Disposing it removes the link (and the completion propagation).</returns>
    /// <exception cref="ArgumentNullException"><paramref name="target"/> or <paramref name="linkOptions"/> is null.</exception>
    public IDisposable LinkTo(ITargetBlock<TOutput> target, DataflowLinkOptions linkOptions)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(linkOptions);
        IDisposable link = _output.LinkTo(target, new DataflowLinkOptions { Append = linkOptions.Append, MaxMessages = linkOptions.MaxMessages });
        if (!linkOptions.PropagateCompletion)
        {
            return link;
        }

        var propagating = new PropagatingLink(this, link, target);
        List<PropagatingLink>? links = Volatile.Read(ref _propagatingLinks);
        if (links is not null)
        {
            lock (links)
            {
                if (_propagatingLinks is not null)
                {
                    links.Add(propagating);
                    return propagating;
                }
            }
        }

        // Already complete: propagate now, as Dataflow does for a link to a completed source.
        propagating.Propagate(_completion.Task);
        return propagating;
    }

    /// <inheritdoc/>
    public TOutput? ConsumeMessage(DataflowMessageHeader messageHeader, ITargetBlock<TOutput> target, out bool messageConsumed) =>
        ((ISourceBlock<TOutput>)_output).ConsumeMessage(messageHeader, target, out messageConsumed);

    /// <inheritdoc/>
    public bool ReserveMessage(DataflowMessageHeader messageHeader, ITargetBlock<TOutput> target) =>
        ((ISourceBlock<TOutput>)_output).ReserveMessage(messageHeader, target);

    /// <inheritdoc/>
    public void ReleaseReservation(DataflowMessageHeader messageHeader, ITargetBlock<TOutput> target) =>
        ((ISourceBlock<TOutput>)_output).ReleaseReservation(messageHeader, target);

    /// <inheritdoc/>
    public bool TryReceive(Predicate<TOutput>? filter, [MaybeNullWhen(false)] out TOutput item) => _output.TryReceive(filter, out item);

    /// <inheritdoc/>
    public bool TryReceiveAll([NotNullWhen(true)] out IList<TOutput>? items) => _output.TryReceiveAll(out items);

    /// <summary>Processes one input, handing each output to <see cref="EmitAsync"/> in order. Called one input at a time.</summary>
    /// <param name="item">The input.</param>
    /// <returns>A task that completes when the input is processed; a fault faults the block (after delivery, see the type).</returns>
    protected abstract Task ProcessAsync(TInput item);

    /// <summary>Called once after the last input was processed (the input completed normally); returns a fault to report, if any.</summary>
    /// <returns>The fault, or <see langword="null"/>.</returns>
    protected virtual Exception? CheckInputEnd() => null;

    /// <summary>Offers an output, waiting while the output is full.</summary>
    /// <param name="item">The output.</param>
    /// <returns><see langword="true"/> once it is accepted; <see langword="false"/> if the output declines for good (the block was faulted).</returns>
    protected Task<bool> EmitAsync(TOutput item) => _output.SendAsync(item, _stop.Token);

    private void InputCompleted(Task completion)
    {
        if (completion.Exception is { } error)
        {
            _deferredFault = error.InnerExceptions;
        }
        else if (completion.Status == TaskStatus.RanToCompletion)
        {
            try
            {
                if (CheckInputEnd() is { } fault)
                {
                    _deferredFault = [fault];
                }
            }
            catch (Exception ex)
            {
                _deferredFault = [ex];
            }
        }

        // Not Fault: what the output holds is still offered (a no-op if Fault or the token already ended it).
        _output.Complete();
    }

    private void OutputCompleted(Task completion)
    {
        if (_deferredFault is { } fault)
        {
            _completion.TrySetException(fault);
        }
        else if (completion.Exception is { } error)
        {
            _completion.TrySetException(error.InnerExceptions);
        }
        else if (completion.IsCanceled)
        {
            _completion.TrySetCanceled(_cancellationToken);
        }
        else
        {
            _completion.TrySetResult();
        }

        List<PropagatingLink> links = _propagatingLinks!;
        PropagatingLink[] live;
        lock (links)
        {
            live = [.. links];
            Volatile.Write(ref _propagatingLinks, null);
        }

        foreach (PropagatingLink link in live)
        {
            link.Propagate(_completion.Task);
        }
    }

    private void Unregister(PropagatingLink link)
    {
        if (Volatile.Read(ref _propagatingLinks) is { } links)
        {
            lock (links)
            {
                links.Remove(link);
            }
        }
    }

    /// <summary>A link whose target is completed or faulted as the block's <see cref="Completion"/> is, unless disposed first.</summary>
    private sealed class PropagatingLink(SequentialPropagatorBlock<TInput, TOutput> block, IDisposable link, ITargetBlock<TOutput> target) : IDisposable
    {
        private volatile bool _disposed;

        public void Propagate(Task completion)
        {
            if (_disposed)
            {
                return;
            }

            // Dataflow's own rule: a fault passes on as the AggregateException; cancellation passes on as completion.
            if (completion.Exception is { } error)
            {
                target.Fault(error);
            }
            else
            {
                target.Complete();
            }
        }

        public void Dispose()
        {
            _disposed = true;
            link.Dispose();
            block.Unregister(this);
        }
    }
}
