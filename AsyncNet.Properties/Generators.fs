namespace AsyncNet.Properties

open FsCheck
open FsCheck.FSharp

/// Ways to cut a byte stream into the segments a reader receives: each cut is a segment length (> 0).
/// The cuts of a stream of n bytes always add up to n.
type Chunking = { Cuts: int list }

/// Reusable generators. Everything here is public so users can fuzz their own code with the same inputs.
[<RequireQualifiedAccess>]
module Generators =

    /// Cuts a stream of `length` bytes into segments: mostly small ones (the interesting edges), sometimes
    /// large ones, and sometimes single bytes (the worst case for parsers).
    let chunking (length: int) : Gen<Chunking> =
        let rec cuts remaining =
            if remaining <= 0 then
                Gen.constant []
            else
                gen {
                    let! size =
                        Gen.frequency
                            [
                                3, Gen.choose (1, min remaining 8)
                                2, Gen.choose (1, remaining)
                                1, Gen.constant 1
                            ]

                    let! rest = cuts (remaining - size)
                    return size :: rest
                }

        cuts length |> Gen.map (fun c -> { Cuts = c })

    /// Splits `bytes` according to a chunking; the segments concatenate back to `bytes`.
    let split (chunking: Chunking) (bytes: byte array) : byte array list =
        let folder (offset, acc) size =
            offset + size, Array.sub bytes offset size :: acc

        chunking.Cuts |> List.fold folder (0, []) |> snd |> List.rev

    /// Byte arrays of 0 to `maxLength` bytes.
    let bytes (maxLength: int) : Gen<byte array> =
        gen {
            let! length = Gen.choose (0, maxLength)
            return! Gen.arrayOfLength length (Gen.choose (0, 255) |> Gen.map byte)
        }
