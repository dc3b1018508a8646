"""The pipeline view: the job table, its model, and the dialogs that add, edit, import, export."""
