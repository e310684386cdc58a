// The workspace around the conversation list: the sidebar, the thread, the status bar and the
// overlays. They are a chunk of their own, loaded once the list's first frame is on screen
// (Workspace.svelte): the first frame is the inbox list, and parsing, mounting and laying out the
// rest before it made it later by the time they take.
export { default as Sidebar } from './Sidebar.svelte';
export { default as ThreadPane } from './ThreadPane.svelte';
export { default as StatusBar } from './StatusBar.svelte';
export { default as CommandPalette } from './CommandPalette.svelte';
export { default as ShortcutHelp } from './ShortcutHelp.svelte';
export { default as ConversationPicker } from './ConversationPicker.svelte';
