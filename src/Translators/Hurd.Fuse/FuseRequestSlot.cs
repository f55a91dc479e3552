namespace Hurd.Fuse;

/// <summary>
/// One reader thread's in-flight request, so that an INTERRUPT can find its victim and fire the
/// victim's <see cref="FuseContext.Cancellation"/>. Created by <see cref="FuseDispatcher.CreateSlot"/>;
/// used by one thread at a time; reused across requests without allocating unless a token was fired.
/// </summary>
public sealed class FuseRequestSlot
{
    private CancellationTokenSource _cts = new();
    private ulong _unique;

    internal CancellationToken Begin(ulong unique)
    {
        lock (this)
        {
            if (_cts.IsCancellationRequested) _cts = new CancellationTokenSource();
            _unique = unique;
            return _cts.Token;
        }
    }

    internal void End()
    {
        lock (this) _unique = 0;
    }

    internal bool TryInterrupt(ulong unique)
    {
        lock (this)
        {
            if (_unique != unique || unique == 0) return false;
            _cts.Cancel();
            return true;
        }
    }
}
