"""The sandbox's CodePipeline: the execution engine and API moto lacks, inside moto's own classes."""
