using Hurd.Ipc.Abi;

namespace Hurd.Translators;

/// <summary>
/// One file of a translator's tree (libdiskfs/libnetfs <c>struct node</c>). A node is the
/// object; what it can do is the set of optional-operation interfaces it implements
/// (<see cref="IStatable"/>, <see cref="IReadable"/>, <see cref="IDirectory"/>, ...). The SDK checks
/// <c>node is IReadable</c> and applies the interface's documented default when it is missing.
/// </summary>
/// <remarks>
/// <para>Clients never hold a node directly: they hold a <see cref="Protid"/> (identity) on an
/// <see cref="OpenFile"/> (per-open state) on a node. The SDK does the permission checks of
/// <see cref="Permissions"/> before it calls a node's operation, so node code implements only
/// the filesystem's own mechanism.</para>
/// <para>Locking: <see cref="Lock"/> belongs to the filesystem; the SDK never takes it. A node's
/// operations may be called from several threads at once and must be thread-safe.</para>
/// </remarks>
public abstract class Node
{
    int opens;

    /// <summary>A node with inode number <paramref name="ino"/> (st_ino, unique within the filesystem while the node lives).</summary>
    protected Node(ulong ino) { Ino = ino; }

    /// <summary>st_ino.</summary>
    public ulong Ino { get; }

    /// <summary>st_gen: distinguishes this node from earlier nodes that had the same <see cref="Ino"/>.</summary>
    public uint Generation { get; init; }

    /// <summary>A lock for the filesystem's use (the SDK does not take it).</summary>
    public Lock Lock { get; } = new();

    /// <summary>How many <see cref="OpenFile"/>s on this node are alive (peropens not yet closed).</summary>
    public int OpenCount => Volatile.Read(ref opens);

    /// <summary>
    /// The active translator's handle (the Hurd's transbox), set and cleared by the serving
    /// layer, which owns its meaning (a control port). The node model only reports it:
    /// a node with one is "translated" for <see cref="Calls.DirLookup"/> and has S_IATRANS in stat.
    /// </summary>
    public object? ActiveTranslator { get; set; }

    /// <summary>True when a lookup through this node must reach a translator: an active one is set,
    /// or the node is <see cref="ITranslatable"/> with a passive record.</summary>
    public bool IsTranslated => ActiveTranslator is not null || (this is ITranslatable t && t.HasPassiveTranslator);

    internal void AddOpen() => Interlocked.Increment(ref opens);
    internal int RemoveOpen() => Interlocked.Decrement(ref opens);
}
