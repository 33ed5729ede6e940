namespace AsyncNet.Properties

// Laws of StreamReader's lent reads (issue 15): ReadBufferedAsync shows the buffered bytes where they lie and AdvanceTo
// gives them back, over a scripted transport whose every segment is the generator's choice.

open System
open System.Buffers
open System.Threading.Tasks
open FsCheck
open FsCheck.FSharp
open AsyncNet.Loop
open AsyncNet.Streams
open AsyncNet.Testing

/// What one run of a lent-read scenario produced.
type LentReadRun =
    { /// Disagreements with the stream, in order; empty when every loan was right.
      Errors: string list
      /// Where the reader stood after the last loan: how many bytes had been consumed.
      Consumed: int
      /// What `ReadToEndAsync` returned after the last loan.
      Rest: byte array
      /// What the loans that echoed wrote, concatenated, and what the transport sent.
      Echoed: byte array
      Sent: byte array
      /// How many loans spanned more than one receive array.
      MultiSegment: int }

/// Laws of lent reads.
[<RequireQualifiedAccess>]
module LentReadProperties =

    /// Runs `scenario` on a fresh loop over a scripted transport: one segment of the chunking is delivered per loop
    /// iteration while the transport reads; the reader makes its lent reads on the loop thread (`onLoop`) or on the
    /// thread pool, checking each loan against the stream, then reads to the end.
    let runLoans (scenario: LentReadScenario) (onLoop: bool) : LentReadRun =
        use loop = new EventLoop()
        let protocol = StreamProtocol(loop, StreamOptions(Limit = scenario.ReaderLimit, CompactSegments = scenario.Compact))
        let transport = ScriptedTransport(loop, protocol, 4096)
        let reader = protocol.Reader
        let stream = scenario.Bytes

        let consume () : Task<LentReadRun> =
            task {
                let errors = ResizeArray<string>()
                let echoed = ResizeArray<byte>()
                let mutable position = 0
                let mutable multiSegment = 0

                for step in scenario.Loans do
                    for _ in 1 .. step.PauseBefore do
                        if onLoop then do! loop.SleepAsync TimeSpan.Zero else do! Task.Delay 1

                    let! lent = reader.ReadBufferedAsync(int64 step.Minimum)
                    let bytes = lent.ToArray()
                    let remaining = stream.Length - position

                    if bytes.Length > remaining || bytes <> stream[position .. position + bytes.Length - 1] then
                        errors.Add $"at offset {position} a loan of {bytes.Length} bytes is not the next bytes of the stream"
                    elif bytes.Length < step.Minimum && bytes.Length <> remaining then
                        errors.Add $"at offset {position} a loan of {bytes.Length} bytes, under the minimum {step.Minimum}, is not the end of the stream"

                    if not lent.IsSingleSegment then
                        multiSegment <- multiSegment + 1

                    if step.Echo then
                        protocol.Writer.Write(&lent)
                        echoed.AddRange bytes

                    let count = min bytes.Length (defaultArg step.Consume bytes.Length)

                    if step.ByPosition then
                        reader.AdvanceTo(lent.GetPosition(int64 count))
                    else
                        reader.AdvanceTo(int64 count)

                    position <- position + count

                let! rest = reader.ReadToEndAsync()
                do! protocol.Writer.DrainAsync()

                return
                    { Errors = List.ofSeq errors
                      Consumed = position
                      Rest = rest
                      Echoed = echoed.ToArray()
                      Sent = transport.Sent
                      MultiSegment = multiSegment }
            }

        let produce () : Task =
            task {
                for chunk in Generators.split scenario.Cuts stream do
                    let mutable offset = 0

                    while offset < chunk.Length do
                        if transport.IsReading then
                            offset <- offset + transport.Deliver(ReadOnlySpan(chunk, offset, chunk.Length - offset))

                        do! loop.SleepAsync TimeSpan.Zero

                transport.DeliverEof()
            }

        let work () : Task<LentReadRun> =
            task {
                transport.Start()
                let consumer = if onLoop then consume () else Task.Run<LentReadRun>(consume)
                do! produce ()
                return! consumer
            }

        StreamProperties.runBounded loop work

    /// The law: for any stream, any chunking, any reader pauses and any loans, each lent read shows the next bytes of the
    /// stream where they lie (at least its minimum, fewer only at the end of the stream), giving back k of them consumes
    /// exactly those k, reading to the end returns the rest, and writing loans back sends exactly their bytes; a minimum
    /// above the reader's limit never deadlocks (the run finishes).
    let lentReadsMatchTheStream (onLoop: bool) (scenario: LentReadScenario) : Property =
        let run = runLoans scenario onLoop
        let stream = scenario.Bytes

        ((List.isEmpty run.Errors) |> Prop.label (String.Join("; ", run.Errors)))
        .&. ((run.Rest = stream[run.Consumed ..])
             |> Prop.label $"after consuming {run.Consumed} bytes, reading to the end gave {run.Rest.Length}; {stream.Length - run.Consumed} were left")
        .&. ((run.Sent = run.Echoed) |> Prop.label $"echoed {run.Echoed.Length} lent bytes, sent {run.Sent.Length}")
        |> Prop.classify (run.MultiSegment > 0) "loans over several arrays"
        |> Prop.classify (scenario.Loans |> List.exists (fun loan -> loan.Minimum > scenario.ReaderLimit)) "a minimum above the limit"
