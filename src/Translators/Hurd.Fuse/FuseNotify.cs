using System.Runtime.InteropServices;
using Hurd.Fuse.Abi;

namespace Hurd.Fuse;

/// <summary>Encodes notification messages (an out-header with unique 0 and the code in the error field).</summary>
public static class FuseNotify
{
    /// <summary>INVAL_INODE: drop cached attributes (<paramref name="offset"/> &lt; 0) or data from <paramref name="offset"/> for <paramref name="length"/> bytes (0: to the end).</summary>
    public static byte[] InvalInode(ulong nodeId, long offset, long length)
    {
        var body = new NotifyInvalInodeOut { Ino = nodeId, Off = offset, Len = length };
        return Build(NotifyCode.InvalInode, MemoryMarshal.AsBytes(new ReadOnlySpan<NotifyInvalInodeOut>(in body)), default);
    }

    /// <summary>INVAL_ENTRY: drop (or with <paramref name="expireOnly"/>, expire) the cached name <paramref name="name"/> in <paramref name="parent"/>.</summary>
    public static byte[] InvalEntry(ulong parent, ReadOnlySpan<byte> name, bool expireOnly = false)
    {
        var body = new NotifyInvalEntryOut { Parent = parent, Namelen = (uint)name.Length, Flags = expireOnly ? 1u : 0u };
        return Build(NotifyCode.InvalEntry, MemoryMarshal.AsBytes(new ReadOnlySpan<NotifyInvalEntryOut>(in body)), name);
    }

    /// <summary>DELETE: <paramref name="name"/> in <paramref name="parent"/> (naming <paramref name="child"/>) is gone; also fires inotify.</summary>
    public static byte[] Delete(ulong parent, ulong child, ReadOnlySpan<byte> name)
    {
        var body = new NotifyDeleteOut { Parent = parent, Child = child, Namelen = (uint)name.Length };
        return Build(NotifyCode.Delete, MemoryMarshal.AsBytes(new ReadOnlySpan<NotifyDeleteOut>(in body)), name);
    }

    private static byte[] Build(NotifyCode code, ReadOnlySpan<byte> body, ReadOnlySpan<byte> name)
    {
        int len = 16 + body.Length + (name.Length > 0 ? name.Length + 1 : 0);
        var msg = new byte[len];
        var h = new FuseOutHeader { Len = (uint)len, Error = (int)code, Unique = 0 };
        MemoryMarshal.Write(msg, in h);
        body.CopyTo(msg.AsSpan(16));
        name.CopyTo(msg.AsSpan(16 + body.Length));
        return msg;
    }
}
