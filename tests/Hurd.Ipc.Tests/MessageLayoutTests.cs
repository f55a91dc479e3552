using System.Runtime.CompilerServices;
using Hurd.Ipc.Abi;
using Hurd.Ipc.Rpc;
using Hurd.Ipc.Testing;
using Hurd.Ipc.Transport;

namespace Hurd.Ipc.Tests;

/// <summary>The fixed layouts the two ends of a connection must agree on.</summary>
public class MessageLayoutTests
{
    [Fact(Timeout = 5_000)]
    public async Task Header_Is32Bytes_AndDescriptors8()
    {
        await Task.Yield();
        Assert.Equal(32, Unsafe.SizeOf<MessageHeader>());
        Assert.Equal(8, Unsafe.SizeOf<RightDescriptor>());
    }

    [Fact(Timeout = 5_000)]
    public async Task LargeBody_LengthComesFromSize()
    {
        await Task.Yield();
        int body = 1 << 20;
        var h = new MessageHeader { Size = (uint)(32 + body + 2 * 8), RightCount = 2, BodySize8 = MessageHeader.EncodeBodySize(body) };
        Assert.Equal(MessageHeader.LargeBody, h.BodySize8);
        Assert.Equal(body, h.BodyLength);
        var small = new MessageHeader { Size = 32 + 64, BodySize8 = MessageHeader.EncodeBodySize(64) };
        Assert.Equal(64, small.BodyLength);
        var lying = new MessageHeader { Size = 100, BodySize8 = MessageHeader.LargeBody };
        Assert.Equal(-1, lying.BodyLength);
    }

    [Fact(Timeout = 5_000)]
    public async Task SharedMemoryLayout_RegionsDoNotOverlap()
    {
        await Task.Yield();
        Assert.True(Layout.SideInfoOffset(1) + 64 <= Layout.RingHeader(0));
        Assert.True(Layout.SlotControl(1) + Layout.SlotCount * 64 <= Layout.RingDataBase);
        Assert.Equal(Layout.AreasBase, Layout.RingData(1) + Layout.RingBytes);
        Assert.True(Layout.ReplyArea(0, Layout.SlotCount - 1) + Layout.AreaBytes <= Layout.RequestArea(1, 0));
        Assert.Equal(Layout.TotalBytes, Layout.ReplyArea(1, Layout.SlotCount - 1) + Layout.AreaBytes);
        Assert.True(32 + Layout.MaxBody + Layout.MaxRights * 8 <= Layout.AreaBytes);
        Assert.Equal(0, Layout.RingBytes & (Layout.RingBytes - 1));
    }

    [Fact(Timeout = 10_000)]
    public async Task SendRightTimeout_AppliesToEveryCall()
    {
        await Task.Yield();
        var svc = new TestService();
        using var port = svc.CreatePort();
        using var r = port.MakeSend();
        r.Timeout = TimeSpan.FromMilliseconds(100);
        Assert.Equal(Errno.ETIMEDOUT, TestClient.WaitCancel(r, 5_000, out _));
        r.Timeout = Timeout.InfiniteTimeSpan;
        Assert.Equal(Errno.OK, TestClient.Echo(r, 3, out long y));
        Assert.Equal(3, y);
    }
}
