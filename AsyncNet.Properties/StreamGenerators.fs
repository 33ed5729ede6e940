namespace AsyncNet.Properties

// Generators for stream reader/writer scenarios (issue 4): streams full of separators, any chunking of them, read
// calls with reader pauses and cancellations, and partial-write schedules. Public, so users can drive their own code
// over AsyncNet.Streams with the same inputs.

open FsCheck
open FsCheck.FSharp

/// One call a reader makes.
[<RequireQualifiedAccess>]
type ReadOp =
    /// `ReadAsync(maxBytes)`.
    | Read of maxBytes: int
    /// `ReadAsync(Memory<byte>)` into a buffer of this length: the same answer as `Read`; with a buffer at least the
    /// transport's read size and no cancellation, on the loop thread, the bytes are received straight into it.
    | ReadInto of bufferLength: int
    /// `ReadExactlyAsync(count)`.
    | ReadExactly of count: int
    /// `ReadUntilAsync(separator)`.
    | ReadUntil of separator: byte array
    /// `ReadLineAsync()`.
    | ReadLine

/// Whether, and how, a read's token is cancelled.
[<RequireQualifiedAccess>]
type Cancellation =
    /// Never.
    | Never
    /// The token is already cancelled when the read starts.
    | Before
    /// Cancelled on the loop thread after the loop ran this many more iterations.
    | AfterIterations of iterations: int
    /// Cancelled from a thread-pool thread after the loop ran this many more iterations.
    | FromThreadPool of iterations: int

/// One step of a reader: idle for a while (segments pile up meanwhile), then make a call.
type ReadStep =
    { Op: ReadOp
      /// Loop iterations the reader idles before the call: a reader pause.
      PauseBefore: int
      Cancel: Cancellation }

/// A stream, how it is cut into received segments, and what a reader with `Limit` does with it.
type ReadScenario =
    { Stream: byte array
      Chunking: Chunking
      Steps: ReadStep list
      Limit: int
      /// Whether the reader compacts small segments into one array; without, every segment keeps its own array and
      /// separators split across segments are searched across real array boundaries.
      CompactSegments: bool }

/// A writer's schedule against a kernel that takes writes in pieces.
type PartialWriteScenario =
    { /// What the writer writes, in order (some empty).
      Writes: byte array list
      /// Whether the writer awaits `DrainAsync` after each write.
      DrainAfter: bool list
      /// Amounts the kernel takes on successive send attempts (0 = would block); after the list, everything.
      Sends: int list
      /// The transport's write-buffer marks.
      High: int
      Low: int
      /// Whether the writer runs on the thread pool (its writes reach the loop through the writer's outbox).
      FromThreadPool: bool }

    /// The bytes that must arrive: every write, concatenated.
    member this.Expected = Array.concat this.Writes

/// One step of a drain scenario over a stalled transport.
[<RequireQualifiedAccess>]
type DrainCommand =
    /// Write this many bytes; the kernel takes none of them yet.
    | Write of bytes: int
    /// The kernel takes up to this many queued bytes.
    | Send of bytes: int
    /// Start a `DrainAsync` (and keep watching it).
    | Drain

/// One lent read (`ReadBufferedAsync`) and how its bytes are given back (`AdvanceTo`).
type LentStep =
    { /// The read's minimum: it waits until this many bytes are buffered (or the stream ends).
      Minimum: int
      /// How many of the lent bytes are consumed (clamped to what was lent); `None`: all of them.
      Consume: int option
      /// Whether the lent bytes are written back before they are given back, as a zero-copy echo does.
      Echo: bool
      /// Whether they are given back by position (`AdvanceTo(SequencePosition)`) rather than by count.
      ByPosition: bool
      /// Loop iterations the reader idles before the read.
      PauseBefore: int }

/// A stream, how it is cut into received segments, and the lent reads a reader with `ReaderLimit` makes of it.
type LentReadScenario =
    { Bytes: byte array
      Cuts: Chunking
      Loans: LentStep list
      ReaderLimit: int
      /// Whether the reader compacts small segments into one array; without, loans span real array boundaries.
      Compact: bool }

/// Generators for stream scenarios.
[<RequireQualifiedAccess>]
module StreamGen =

    let private newline = byte '\n'

    /// Bytes of a small alphabet ('a', 'b', '\n', '\r', '-'), so separators occur by chance, overlap and split.
    let private alphabetByte: Gen<byte> =
        Gen.frequency [ 6, Gen.elements [ byte 'a'; byte 'b' ]; 1, Gen.elements [ newline; byte '\r'; byte '-' ] ]

    /// Separators of 1 to 3 bytes from the same small alphabet ("\n", "\r\n", "--", "-\n-", ...).
    let separator: Gen<byte array> =
        gen {
            let! length = Gen.frequency [ 3, Gen.constant 1; 3, Gen.constant 2; 1, Gen.constant 3 ]
            return! Gen.arrayOfLength length (Gen.elements [ newline; byte '\r'; byte '-' ])
        }

    /// Streams of at most `maxLength` bytes: runs of the small alphabet with `separators` spliced in often.
    let streamWith (separators: byte array list) (maxLength: int) : Gen<byte array> =
        let piece =
            Gen.frequency
                [ 4, gen {
                      let! n = Gen.choose (0, 12)
                      return! Gen.arrayOfLength n alphabetByte
                  }
                  1, gen {
                      let! n = Gen.choose (0, 80)
                      return! Gen.arrayOfLength n alphabetByte
                  }
                  3, Gen.elements separators ]

        gen {
            let! count = Gen.choose (0, 40)
            let! pieces = Gen.listOfLength count piece
            let all = Array.concat pieces
            return Array.truncate maxLength all
        }

    /// A reader pause before a call: usually none, sometimes a few loop iterations.
    let readerPause: Gen<int> =
        Gen.frequency [ 4, Gen.constant 0; 1, Gen.choose (1, 6) ]

    /// Reader pause schedules: one pause (in loop iterations) before each of `count` calls.
    let readerPauses (count: int) : Gen<int list> = Gen.listOfLength count readerPause

    /// Cancellations: mostly none; otherwise before the call, or after some loop iterations from the loop or the pool.
    let cancellation: Gen<Cancellation> =
        Gen.frequency
            [ 3, Gen.constant Cancellation.Never
              1, Gen.constant Cancellation.Before
              2, Gen.choose (0, 4) |> Gen.map Cancellation.AfterIterations
              1, Gen.choose (0, 4) |> Gen.map Cancellation.FromThreadPool ]

    /// A `ReadInto` buffer as long as the read size `StreamProperties.runReads` gives its transport, so the bytes may be
    /// received straight into it.
    let readIntoDirectLength = 4096

    /// Read calls sized around `limit`, so limits overrun and exact reads outgrow it.
    let readOp (limit: int) (separators: byte array list) : Gen<ReadOp> =
        Gen.frequency
            [ 3, Gen.choose (1, 2 * limit) |> Gen.map ReadOp.Read
              2, Gen.frequency [ 1, Gen.choose (1, 2 * limit); 1, Gen.constant readIntoDirectLength ] |> Gen.map ReadOp.ReadInto
              3, Gen.choose (0, 3 * limit) |> Gen.map ReadOp.ReadExactly
              3, Gen.elements separators |> Gen.map ReadOp.ReadUntil
              3, Gen.constant ReadOp.ReadLine ]

    /// Whole read scenarios: limits of 4 to 40 bytes, streams of up to 600 bytes in any chunking (reusing
    /// `Generators.chunking`), up to 25 calls with reader pauses; with `cancellations`, some calls are cancelled.
    let readScenario (cancellations: bool) : Gen<ReadScenario> =
        gen {
            let! limit = Gen.choose (4, 40)
            let! extra = Gen.listOfLength 2 separator
            let separators = [| newline |] :: extra
            let! stream = streamWith separators 600
            let! chunking = Generators.chunking stream.Length
            let! count = Gen.choose (1, 25)
            let! ops = Gen.listOfLength count (readOp limit separators)
            let! pauses = readerPauses count

            let! cancels =
                if cancellations then
                    Gen.listOfLength count cancellation
                else
                    Gen.constant (List.replicate count Cancellation.Never)

            let! compact = Gen.elements [ true; false ]

            let steps =
                List.zip3 ops pauses cancels
                |> List.map (fun (op, pause, cancel) ->
                    { Op = op
                      PauseBefore = pause
                      Cancel = cancel })

            return
                { Stream = stream
                  Chunking = chunking
                  Steps = steps
                  Limit = limit
                  CompactSegments = compact }
        }

    /// Partial-write schedules: up to 20 writes of up to `maxWriteBytes` bytes, kernels that take 0 to 3000 bytes a
    /// try (often nothing), marks from tiny to a few KiB, writers on the loop or on the pool.
    let partialWrites (maxWriteBytes: int) : Gen<PartialWriteScenario> =
        gen {
            let! count = Gen.choose (0, 20)

            let! writes =
                Gen.listOfLength
                    count
                    (Gen.frequency [ 5, Generators.bytes 200; 2, Generators.bytes maxWriteBytes; 1, Gen.constant [||] ])

            let! drains = Gen.listOfLength count (Gen.frequency [ 1, Gen.constant true; 2, Gen.constant false ])
            let! sendCount = Gen.choose (0, 80)

            let! sends =
                Gen.listOfLength sendCount (Gen.frequency [ 2, Gen.constant 0; 3, Gen.choose (1, 300); 1, Gen.choose (300, 3000) ])

            let! high = Gen.choose (0, 4096)
            let! low = Gen.choose (0, high)
            let! fromPool = Gen.frequency [ 3, Gen.constant false; 1, Gen.constant true ]

            return
                { Writes = writes
                  DrainAfter = drains
                  Sends = sends
                  High = high
                  Low = low
                  FromThreadPool = fromPool }
        }

    /// Drain scenarios: marks, then up to 40 writes, sends and drains in any order.
    let drainScenario: Gen<int * int * DrainCommand list> =
        gen {
            let! high = Gen.choose (0, 600)
            let! low = Gen.choose (0, high)
            let! count = Gen.choose (1, 40)

            let command =
                Gen.frequency
                    [ 3, Gen.choose (1, 400) |> Gen.map DrainCommand.Write
                      3, Gen.choose (0, 500) |> Gen.map DrainCommand.Send
                      2, Gen.constant DrainCommand.Drain ]

            let! commands = Gen.listOfLength count command
            return high, low, commands
        }

    /// Lent-read scenarios: limits of 4 to 40 bytes, streams of up to 600 bytes in any chunking, up to 30 lent reads
    /// with minimums from one byte to four times the limit, consuming all, some or none of what they are lent.
    let lentScenario: Gen<LentReadScenario> =
        gen {
            let! limit = Gen.choose (4, 40)
            let! length = Gen.choose (0, 600)
            let! bytes = Gen.arrayOfLength length (Gen.choose (0, 255) |> Gen.map byte)
            let! chunking = Generators.chunking length
            let! count = Gen.choose (1, 30)

            let step =
                gen {
                    let! minimum =
                        Gen.frequency [ 4, Gen.choose (1, 8); 2, Gen.choose (1, 2 * limit); 1, Gen.choose (1, 4 * limit) ]

                    let! consume =
                        Gen.frequency
                            [ 3, Gen.constant None
                              3, Gen.choose (1, 3 * limit) |> Gen.map Some
                              1, Gen.constant (Some 0) ]

                    let! echo = Gen.elements [ true; false ]
                    let! byPosition = Gen.elements [ true; false ]
                    let! pause = readerPause

                    return
                        { Minimum = minimum
                          Consume = consume
                          Echo = echo
                          ByPosition = byPosition
                          PauseBefore = pause }
                }

            let! loans = Gen.listOfLength count step
            let! compact = Gen.elements [ true; false ]

            return
                { Bytes = bytes
                  Cuts = chunking
                  Loans = loans
                  ReaderLimit = limit
                  Compact = compact }
        }
