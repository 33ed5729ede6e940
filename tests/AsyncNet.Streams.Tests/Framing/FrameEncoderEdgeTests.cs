using System.Buffers;
using AsyncNet.Streams.Framing.Codec;

namespace AsyncNet.Streams.Tests.Framing;

/// <summary>Every FrameEncoder entry point checks the type and its destination the same way; a header's gaps are zeros.</summary>
public sealed class FrameEncoderEdgeTests
{
    private static readonly LengthFieldFormat OneByteType = new(typeFieldSize: 1, lengthFieldOffset: 1);

    public static TheoryData<string> EntryPoints => ["WriteHeader", "Encode(span)", "Encode(array)", "Encode(writer, span)", "Encode(writer, sequence)", "EncodeGathered"];

    private static object Call(string entryPoint, FrameEncoder encoder, uint type, byte[] payload, ArrayBufferWriter<byte> writer, List<ReadOnlyMemory<byte>> parts) => entryPoint switch
    {
        "WriteHeader" => encoder.WriteHeader(new byte[16], type, payload.Length),
        "Encode(span)" => encoder.Encode(new byte[64], type, payload),
        "Encode(array)" => encoder.Encode(type, payload),
        "Encode(writer, span)" => encoder.Encode(writer, type, payload),
        "Encode(writer, sequence)" => encoder.Encode(writer, type, new ReadOnlySequence<byte>(payload)),
        "EncodeGathered" => encoder.EncodeGathered(type, payload, new byte[encoder.ScratchLength], parts),
        _ => throw new ArgumentException(entryPoint),
    };

    [Theory]
    [MemberData(nameof(EntryPoints))]
    public void AnyEntryPoint_TypeWiderThanItsField_ThrowsNamingTheMaximum_AndWritesNothing(string entryPoint)
    {
        var encoder = new FrameEncoder(OneByteType);
        var writer = new ArrayBufferWriter<byte>();
        var parts = new List<ReadOnlyMemory<byte>>();

        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => Call(entryPoint, encoder, 256, "x"u8.ToArray(), writer, parts));

        Assert.Equal("type", refused.ParamName);
        Assert.Contains("at most 255", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0, writer.WrittenCount);
        Assert.Empty(parts);
        Call(entryPoint, encoder, 255, "x"u8.ToArray(), writer, parts);
    }

    [Theory]
    [MemberData(nameof(EntryPoints))]
    public void AnyEntryPoint_WithoutATypeField_RefusesAnyTypeButZero(string entryPoint)
    {
        var encoder = new FrameEncoder(LengthFieldFormat.Default);

        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => Call(entryPoint, encoder, 1, [], new ArrayBufferWriter<byte>(), []));

        Assert.Contains("no type field", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WriteHeader_DestinationTooSmall_ThrowsNamingBothLengths()
    {
        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => new FrameEncoder(OneByteType).WriteHeader(new byte[4], 0, 10));

        Assert.Equal("destination", refused.ParamName);
        Assert.Contains("needs 5 bytes", refused.Message, StringComparison.Ordinal);
        Assert.Contains("holds 4", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_DestinationOneByteShort_ThrowsNamingBothLengths_AndExactlyEnoughWorks()
    {
        var encoder = new FrameEncoder(LengthFieldFormat.Default);

        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => encoder.Encode(new byte[6], 0, "abc"u8));

        Assert.Contains("needs 7 bytes", refused.Message, StringComparison.Ordinal);
        Assert.Contains("holds 6", refused.Message, StringComparison.Ordinal);
        Assert.Equal(7, encoder.Encode(new byte[7], 0, "abc"u8));
    }

    [Fact]
    public void WriteTrailer_DestinationTooSmall_ThrowsNamingBothLengths()
    {
        var encoder = new FrameEncoder(new LengthFieldFormat(checksum: ChecksumAlgorithm.Crc32));

        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => encoder.WriteTrailer(new byte[3], new byte[4], "abc"u8));

        Assert.Contains("needs 4 bytes", refused.Message, StringComparison.Ordinal);
        Assert.Contains("holds 3", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EncodeGathered_ScratchTooSmall_ThrowsNamingBothLengths()
    {
        var encoder = new FrameEncoder(new LengthFieldFormat(checksum: ChecksumAlgorithm.Crc32C));

        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => encoder.EncodeGathered(0, "abc"u8.ToArray(), new byte[7], []));

        Assert.Equal("scratch", refused.ParamName);
        Assert.Contains("must hold 8 bytes", refused.Message, StringComparison.Ordinal);
        Assert.Contains("holds 7", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(LengthFieldFormat.Varint)]
    public void Header_WithAGapBetweenItsFields_HasZerosThere_WhateverTheDestinationHeld(int lengthFieldSize)
    {
        // Type in byte 0, nothing in byte 1, the length from byte 2.
        var format = new LengthFieldFormat(typeFieldSize: 1, lengthFieldOffset: 2, lengthFieldSize: lengthFieldSize);
        var encoder = new FrameEncoder(format);
        byte[] destination = Enumerable.Repeat((byte)0xEE, 32).ToArray();

        int written = encoder.Encode(destination, 7, "abc"u8);

        Assert.Equal(7, destination[0]);
        Assert.Equal(0, destination[1]);
        Assert.Equal(0xEE, destination[written]);
        Assert.Equal("abc", Bytes.Text(destination[(written - 3)..written]));
    }

    [Fact]
    public void Varint_AfterATypeField_EndsTheHeader_AndGrowsAt128()
    {
        var format = new LengthFieldFormat(typeFieldSize: 1, lengthFieldOffset: 1, lengthFieldSize: LengthFieldFormat.Varint);
        var encoder = new FrameEncoder(format);

        byte[] short127 = encoder.Encode(9, new byte[127]);
        byte[] long128 = encoder.Encode(9, new byte[128]);

        Assert.Equal([9, 127], short127[..2]);
        Assert.Equal([9, 0x80, 0x01], long128[..3]);
        Assert.Equal(2, encoder.GetHeaderLength(127));
        Assert.Equal(3, encoder.GetHeaderLength(128));
    }
}
