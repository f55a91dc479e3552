namespace Hurd.Translators.Fuse;

using Hurd.Fuse;
using Hurd.Fuse.Abi;
using Hurd.Interfaces;
using Hurd.Ipc.Abi;
using XattrFlags = Hurd.Interfaces.XattrFlags;

// The FUSE extended-attribute requests: getxattr/listxattr/setxattr/removexattr.
public sealed partial class FuseBridge
{
    [ThreadStatic] private static byte[]? t_bigBuffer;

    /// <summary>The extended attribute that names a node's passive translator (ext2fs's and this system's).</summary>
    private static ReadOnlySpan<byte> TranslatorXattr => "gnu.translator"u8;

    // ------------------------------------------------------------------ extended attributes

    /// <inheritdoc/>
    /// <remarks>"gnu.translator" reads the passive translator record (file_get_translator; ENODATA when none).</remarks>
    public override Errno Getxattr(in FuseContext ctx, ReadOnlySpan<byte> name, Span<byte> value, out int size)
    {
        size = 0;
        var e = NodePort(in ctx, ctx.NodeId, Who(in ctx), out _, out var port);
        if (e != Errno.OK) return e;
        try
        {
            var fs = Fs(port, ctx.Cancellation);
            if (name.SequenceEqual(TranslatorXattr))
            {
                var buf = t_bigBuffer ??= GC.AllocateUninitializedArray<byte>(HurdLimits.XattrSizeMax);
                e = fs.file_get_translator(buf, out int n);
                if (e == Errno.EINVAL) return Errno.ENODATA;
                if (e != Errno.OK) return Posix(e);
                size = n;
                if (value.IsEmpty) return Errno.OK;
                if (n > value.Length) return Errno.ERANGE;
                buf.AsSpan(0, n).CopyTo(value);
                return Errno.OK;
            }
            e = fs.file_get_xattr(name, value.Length, value, out int count, out int length);
            if (e != Errno.OK) return Posix(e);
            size = value.IsEmpty ? length : count;
            return Errno.OK;
        }
        finally { port.Release(); }
    }

    /// <inheritdoc/>
    public override Errno Listxattr(in FuseContext ctx, Span<byte> list, out int size)
    {
        size = 0;
        var e = NodePort(in ctx, ctx.NodeId, Who(in ctx), out _, out var port);
        if (e != Errno.OK) return e;
        try
        {
            e = Fs(port, ctx.Cancellation).file_list_xattr(list.Length, list, out int count, out int length);
            if (e != Errno.OK) return Posix(e);
            size = list.IsEmpty ? length : count;
            return Errno.OK;
        }
        finally { port.Release(); }
    }

    /// <inheritdoc/>
    public override Errno Setxattr(in FuseContext ctx, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, in SetxattrIn input)
    {
        if (_options.ReadOnly) return Errno.EROFS;
        var e = NodePort(in ctx, ctx.NodeId, Who(in ctx), out _, out var port);
        if (e != Errno.OK) return e;
        try { return Posix(Fs(port, ctx.Cancellation).file_set_xattr(name, value, (XattrFlags)input.Flags)); }
        finally { port.Release(); }
    }

    /// <inheritdoc/>
    public override Errno Removexattr(in FuseContext ctx, ReadOnlySpan<byte> name)
    {
        if (_options.ReadOnly) return Errno.EROFS;
        var e = NodePort(in ctx, ctx.NodeId, Who(in ctx), out _, out var port);
        if (e != Errno.OK) return e;
        try { return Posix(Fs(port, ctx.Cancellation).file_remove_xattr(name)); }
        finally { port.Release(); }
    }
}
