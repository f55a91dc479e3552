using System.Runtime.CompilerServices;
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

    /// <summary>The optional operations this node's class implements, found once when it is made: the SDK asks on
    /// every request (is it a directory, can it stat itself...), and an interface type test walks the class's
    /// interface map each time.</summary>
    private readonly NodeOps _ops;

    /// <summary>A node with inode number <paramref name="ino"/> (st_ino, unique within the filesystem while the node lives).</summary>
    protected Node(ulong ino)
    {
        Ino = ino;
        _ops = (this is IStatable ? NodeOps.Statable : 0) | (this is IReadable ? NodeOps.Readable : 0)
            | (this is IWritable ? NodeOps.Writable : 0) | (this is IAttributes ? NodeOps.Attributes : 0)
            | (this is IDirectory ? NodeOps.Directory : 0) | (this is ISymlink ? NodeOps.Symlink : 0)
            | (this is IXattrs ? NodeOps.Xattrs : 0) | (this is ITranslatable ? NodeOps.Translatable : 0)
            | (this is IOpenHook ? NodeOps.OpenHook : 0) | (this is IOpenerHook ? NodeOps.OpenerHook : 0)
            | (this is ICloseHook ? NodeOps.CloseHook : 0);
    }

    // The node as one of its operation interfaces, or null: what `node as IX` gives, without the type test.
    // (Unsafe.As is exact here: the bit is set only when the class implements the interface.)
    internal IStatable? AsStatable => (_ops & NodeOps.Statable) != 0 ? Unsafe.As<IStatable>(this) : null;
    internal IReadable? AsReadable => (_ops & NodeOps.Readable) != 0 ? Unsafe.As<IReadable>(this) : null;
    internal IWritable? AsWritable => (_ops & NodeOps.Writable) != 0 ? Unsafe.As<IWritable>(this) : null;
    internal IAttributes? AsAttributes => (_ops & NodeOps.Attributes) != 0 ? Unsafe.As<IAttributes>(this) : null;
    internal IDirectory? AsDirectory => (_ops & NodeOps.Directory) != 0 ? Unsafe.As<IDirectory>(this) : null;
    internal ISymlink? AsSymlink => (_ops & NodeOps.Symlink) != 0 ? Unsafe.As<ISymlink>(this) : null;
    internal IXattrs? AsXattrs => (_ops & NodeOps.Xattrs) != 0 ? Unsafe.As<IXattrs>(this) : null;
    internal ITranslatable? AsTranslatable => (_ops & NodeOps.Translatable) != 0 ? Unsafe.As<ITranslatable>(this) : null;
    internal IOpenHook? AsOpenHook => (_ops & NodeOps.OpenHook) != 0 ? Unsafe.As<IOpenHook>(this) : null;
    internal IOpenerHook? AsOpenerHook => (_ops & NodeOps.OpenerHook) != 0 ? Unsafe.As<IOpenerHook>(this) : null;
    internal ICloseHook? AsCloseHook => (_ops & NodeOps.CloseHook) != 0 ? Unsafe.As<ICloseHook>(this) : null;
    /// <summary><c>this is IDirectory</c>.</summary>
    internal bool IsDirectory => (_ops & NodeOps.Directory) != 0;

    /// <summary>The serving layer's note of the last node reference made for this node: the session port it was made
    /// on and its number (noderef_lookup_known answers with it while it is alive). Written by that port under its table
    /// lock; read without it, and checked against the port's table before use.</summary>
    internal object? RefSession;
    internal ulong RefSessionNumber;

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
    public bool IsTranslated => ActiveTranslator is not null || (AsTranslatable is { } t && t.HasPassiveTranslator);

    internal void AddOpen() => Interlocked.Increment(ref opens);
    internal int RemoveOpen() => Interlocked.Decrement(ref opens);
}

/// <summary>The optional-operation interfaces of a node's class that the SDK tests on hot paths (<see cref="Node"/>).</summary>
[Flags]
internal enum NodeOps : ushort
{
    Statable = 1, Readable = 2, Writable = 4, Attributes = 8, Directory = 16, Symlink = 32, Xattrs = 64,
    Translatable = 128, OpenHook = 256, OpenerHook = 512, CloseHook = 1024,
}
